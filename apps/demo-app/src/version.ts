declare const __CONTRAST_VERSION__: string | undefined;

/** Set by the bundler from package.json; "0.0.0-dev" when run from source. */
export const VERSION = typeof __CONTRAST_VERSION__ === "string" ? __CONTRAST_VERSION__ : "0.0.0-dev";
