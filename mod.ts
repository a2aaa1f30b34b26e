// placeholder: replaced by the real front door shortly
export * from "./src/core/mod.ts";
