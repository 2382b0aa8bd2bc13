import { z } from "zod";

export const absPath = z.string().regex(/^\//, "must be an absolute path");
