export { errorCode, expectCode, expectCodeAsync, thrownBy } from "./errors.js";
export { yamlFilesUnder } from "./files.js";
export { FUZZ_RUNS, fuzzRuns } from "./fuzz.js";
export { type BuiltImage, buildImage, buildIndex, buildTar, type FileSpec } from "./images.js";
export { REPO_ROOT, repoPath, testdataPath } from "./paths.js";
export { freePort, LocalRegistry } from "./registry.js";
export { scratchDir } from "./scratch.js";
export { childEnv, openssl } from "./tools.js";
export { veritysetupRoot } from "./veritysetup.js";
