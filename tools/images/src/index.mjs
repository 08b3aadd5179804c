// The images tool as a module, for tests and other tools (release rendering reads images.json).
export { appEntries, buildImages, DEFAULT_PATH, findAppImages, IMAGES_SCHEMA } from "./build.mjs";
export { defaultDockerConfig, dockerCredentials, pushLayout } from "./push.mjs";
export { copyHostPath, debianPackages, lddPaths, nodePackage, runtimeEntries } from "./runtime.mjs";
