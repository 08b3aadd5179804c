import type { Term } from "./ast.js";
import type { ModuleScope } from "./compiler.js";
import { varInfo } from "./term-info.js";
import type { Value } from "./values.js";

/** A declared but not yet bound local variable. */
export const UNBOUND: unique symbol = Symbol("unbound");
export type Slot = Value | typeof UNBOUND;

/**
 * The variable slots of one rule definition (or one query): each variable name has an index, the
 * same in every frame of that rule. A var term remembers its index, so that reading a variable is
 * an array access rather than a Map lookup. Slots are added on first use.
 */
export class Layout {
  private readonly index = new Map<string, number>();

  get size(): number {
    return this.index.size;
  }

  /** The slot of a name, added when new. */
  slot(name: string): number {
    let i = this.index.get(name);
    if (i === undefined) {
      i = this.index.size;
      this.index.set(name, i);
    }
    return i;
  }

  /** The slot of a name, or -1 when no term of this layout has used it. */
  find(name: string): number {
    return this.index.get(name) ?? -1;
  }
}

/**
 * The local variables of one rule evaluation (or query). A slot holds a value, UNBOUND (declared,
 * not yet bound) or undefined (not a local here: the name may be a rule, input or data).
 */
export interface Frame {
  readonly slots: (Slot | undefined)[];
  readonly layout: Layout;
  readonly scope: ModuleScope;
}

export function newFrame(layout: Layout, scope: ModuleScope): Frame {
  const slots: (Slot | undefined)[] = new Array(layout.size);
  for (let i = 0; i < slots.length; i++) slots[i] = undefined;
  return { slots, layout, scope };
}

/** A variable's slot content by name, or undefined when it is not a local. */
export function getVar(f: Frame, name: string): Slot | undefined {
  const i = f.layout.find(name);
  return i < 0 ? undefined : f.slots[i];
}

/**
 * The slot of a var term in this frame's layout. The index is remembered on the term; a term
 * shared by two layouts (v0 rules with several bodies share their head) just looks it up again.
 */
export function slotOf(t: Extract<Term, { t: "var" }>, f: Frame): number {
  const info = varInfo(t);
  if (info.layout === f.layout) return info.slot;
  const i = f.layout.slot(t.name);
  info.layout = f.layout;
  info.slot = i;
  return i;
}
