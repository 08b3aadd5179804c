export { buildApp, formatReport, inputGroup, requireLazyBundles, SHEBANG } from "./build.mjs";
export { BuildAppError, nodeTarget, publishes, readPlan } from "./config.mjs";
