export { buildApp, formatReport, inputGroup, jsonDefines, requireLazyBundles, SHEBANG } from "./build.mjs";
export { BuildAppError, nodeTarget, publishes, readPlan } from "./config.mjs";
