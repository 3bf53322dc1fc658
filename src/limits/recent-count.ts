// How many requests arrived in the last second and the last minute, for the policy
// (input.connection.stats). Ten 100 ms slots and sixty 1 s slots with running sums: adding and
// reading are O(1) apart from clearing the slots that went by, and the state is one small typed
// array. "Last second" covers the current 100 ms slot and the nine before it (0.9 to 1 s), "last
// minute" the current second and the 59 before it.

const FINE = 10; // slots of 100 ms
const COARSE = 60; // slots of 1 s

export class RecentCount {
  /** [0, FINE): 100 ms slots; [FINE, FINE + COARSE): 1 s slots */
  private readonly slots = new Uint32Array(FINE + COARSE);
  private fineSum = 0;
  private coarseSum = 0;
  /** the 100 ms tick and the second of the newest slots */
  private tick = 0;
  private second = 0;

  constructor(now: number) {
    this.tick = Math.floor(now / 100);
    this.second = Math.floor(now / 1000);
  }

  add(now: number): void {
    this.advance(now);
    this.slots[this.tick % FINE]!++;
    this.slots[FINE + (this.second % COARSE)]!++;
    this.fineSum++;
    this.coarseSum++;
  }

  lastSecond(now: number): number {
    this.advance(now);
    return this.fineSum;
  }

  lastMinute(now: number): number {
    this.advance(now);
    return this.coarseSum;
  }

  /** nothing counted in the last minute */
  idle(now: number): boolean {
    return this.lastMinute(now) === 0;
  }

  private advance(now: number): void {
    const tick = Math.floor(now / 100);
    if (tick !== this.tick) {
      if (tick - this.tick >= FINE) {
        this.slots.fill(0, 0, FINE);
        this.fineSum = 0;
      } else {
        for (let t = this.tick + 1; t <= tick; t++) {
          const i = t % FINE;
          this.fineSum -= this.slots[i]!;
          this.slots[i] = 0;
        }
      }
      this.tick = tick;
    }
    const second = Math.floor(now / 1000);
    if (second !== this.second) {
      if (second - this.second >= COARSE) {
        this.slots.fill(0, FINE);
        this.coarseSum = 0;
      } else {
        for (let s = this.second + 1; s <= second; s++) {
          const i = FINE + (s % COARSE);
          this.coarseSum -= this.slots[i]!;
          this.slots[i] = 0;
        }
      }
      this.second = second;
    }
  }
}
