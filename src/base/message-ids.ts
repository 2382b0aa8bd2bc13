/**
 * Stable MESSAGE_IDs for the journal (`journalctl MESSAGE_ID=...`), explained by packaging/catalog/bootwarden.catalog
 * (`journalctl -x`). Never change an id once released: scripts and alerts match on them.
 */
export const MessageId = {
  normalBoot: "84205bebaf2946bd9e03ab3f4bec6c7a",
  trialBoot: "ebcf7829ad4448c98bb92d7919666772",
  checkPassed: "ca78feee5d9c4ec59b86b84342deb8e0",
  checkFailed: "e75bde2da6e7457989e7afef1b30fe72",
  verdict: "c9314507c84d4d999a93cedfe0e26e1a",
  markedGood: "3bf79d370d1144828dec3e05f52fd061",
  markedBad: "7031f79022374ea48f64e423aa202429",
  rebootRequested: "f03ee4f0a193450797ebe4ae7de957bc",
  previousTrialFailed: "3b7f3fce9bdd4406ba18770ff831fffc",
  configInvalid: "87bff4dc556c4e8a97246dda35602889",
  lateFailure: "7c18eadfab3b433f9e65e96e16c4344d",
  tableRepaired: "2f675d71d22b4140bd4c96f5ebe9ac50",
  untrustedFlagPath: "0a3a6455cfb94f7c81cdf5fcc4119eb6",
  slotExhausted: "dc640a9a95824bc3b4812ff32ed99532",
  fallbackFailed: "683c051d78394d7f84294f0cf65835d1",
  rollbackFailed: "4a60e7f026ae443282e51902dd88d34b",
  foreignSignal: "80311813009c49c18e5577636e7ce338",
  markBadRetry: "7b6be8eb6ecc4dc88ecb0fd0a632b47d",
  deploymentRollback: "4bf6e1b6b4a040f695d4352a57d9c31e",
  recordDamaged: "c52a065d723b43a984c7cdd624fa9fc4",
  trialRetry: "3babdd7ecd7340b7a33b7750f501f0c0",
  markUndone: "667ff36a85c4453294c7cfa0b9aff5a5",
  fallbackIsFailed: "e77d5c490e594c3bb1a43024d8d0739a",
} as const;
