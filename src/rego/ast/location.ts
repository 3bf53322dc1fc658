// Source locations (OPA's ast/location package).
import type { Location } from './types.js';

/** OPA's Location.String(): `file:row`, or `row:col` without a file. */
export function locationString(loc: Location | undefined): string {
  if (!loc) return '';
  if (loc.file) return `${loc.file}:${loc.row}`;
  return `${loc.row}:${loc.col}`;
}

/** OPA's Location.Compare: by file, then row, then col; missing locations sort first. */
export function compareLocations(a: Location | undefined, b: Location | undefined): number {
  if (!a && !b) return 0;
  if (!a) return -1;
  if (!b) return 1;
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  if (a.row !== b.row) return a.row - b.row;
  return a.col - b.col;
}
