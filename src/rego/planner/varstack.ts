// Scoped variable -> local bindings for the planner (OPA internal/planner/varstack.go).
import type { Local } from '../ir/types.js';

export class VarStack {
  private frames: Array<Map<string, Local>> = [];

  constructor(...frames: Array<Map<string, Local>>) {
    for (const f of frames) this.push(f);
  }

  get(name: string): Local | undefined {
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const l = this.frames[i].get(name);
      if (l !== undefined) return l;
    }
    return undefined;
  }

  /** The binding of `name`, or a fresh one from `orElse` that is then recorded in the top frame. */
  getOrElse(name: string, orElse: () => Local): Local {
    let l = this.get(name);
    if (l === undefined) {
      l = orElse();
      this.put(name, l);
    }
    return l;
  }

  put(name: string, l: Local): void {
    this.frames[this.frames.length - 1].set(name, l);
  }

  push(frame: Map<string, Local> = new Map()): void {
    this.frames.push(frame);
  }

  pop(): Map<string, Local> {
    const f = this.frames.pop();
    if (!f) throw new Error('varstack underflow');
    return f;
  }
}
