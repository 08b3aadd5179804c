export { errorCode, expectCode, expectCodeAsync, thrownBy } from "./errors.js";
export { FUZZ_RUNS, fuzzRuns } from "./fuzz.js";
export { REPO_ROOT, repoPath, testdataPath } from "./paths.js";
export { scratchDir } from "./scratch.js";
export { childEnv, openssl } from "./tools.js";
