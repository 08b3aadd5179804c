/** The runtime class users write; generate turns it into the versioned handler. */
export const RUNTIME_CLASS_PLACEHOLDER = "contrast-cc";
/** AKS's own confidential runtime class, which generate also turns into the handler. */
export const AKS_RUNTIME_CLASS = "kata-cc-isolation";

/**
 * True for the runtime classes generate treats as Contrast's: `contrast-cc` and every versioned
 * handler (`contrast-cc-<platform>-<hash>`), and AKS's `kata-cc-isolation`, which the runtime
 * class rewrite turns into the handler. Upstream injects only for `contrast-cc*`, so a
 * `kata-cc-isolation` pod got its initializer on the second run; docs/deviations.md.
 */
export function isContrastRuntimeClass(name: string): boolean {
  return name.startsWith(RUNTIME_CLASS_PLACEHOLDER) || name === AKS_RUNTIME_CLASS;
}
