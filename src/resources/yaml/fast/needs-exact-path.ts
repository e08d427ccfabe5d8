/**
 * Which YAML text the fast path leaves to the exact path: one conservative pass over a document's
 * text that looks for the features where js-yaml and the `yaml` package read the same text
 * differently, or that need the exact path's alias budget (see the list in yaml/fast.ts). A false
 * alarm only sends a valid document the slower way; a miss would let the two paths disagree,
 * which test/resources/fast-parse.test.ts checks on generated texts. Part of the fast path
 * (yaml/fast.ts).
 */

/**
 * Whether `text` has something the fast path leaves to the exact path. At the start of a node
 * (line start, or after `-`, `:`, `?`, `[`, `{` or `,` and blanks): an alias `*`, a tag `!`, an
 * explicit key `?`, an anchor `&`, or a flow collection (`[`, `{`) that does not close on its line.
 * A comment right after a quote or a bracket (`"x"#c`). A tab. A block scalar with an
 * indentation indicator (`|2`). A key that is null or empty (`~:`, `null:`, `: x`), which `yaml` names ""
 * and js-yaml "null". A merge key `<<`, a flow collection used as a key (`]:`, `}:`), a
 * directive (`%` at a line start), content after `---` on its line (`yaml` refuses `--- a: 1`,
 * js-yaml reads it), or a quoted scalar over several lines. Deliberately coarse: a match inside
 * a string or a comment sends a valid document to the exact path, which is only slower. One pass
 * that jumps from one interesting character to the next (a single regular expression with all
 * these alternatives costs several times more on megabytes).
 */
export function needsExactPath(text: string): boolean {
  const lines = new Indentation();
  if (!lines.next(text, 0)) return true;
  const next = INTERESTING;
  next.lastIndex = 0;
  while (next.test(text)) {
    const i = next.lastIndex - 1;
    const c = text.charCodeAt(i);
    switch (c) {
      case 0x0a: // a new line
        if (!lines.next(text, i + 1)) return true;
        break;
      case 0x5d: // ]
      case 0x7d: // }
        if (isKeyIndicator(text, skipBlanks(text, i + 1))) return true; // `]:` `}:`
        break;
      case 0x22: // "
      case 0x27: // '
        if (isNodeStart(text, i)) {
          const end = quotedEnd(text, i);
          if (end < 0) return true;
          next.lastIndex = end + 1;
        }
        break;
      case 0x2a: // *
      case 0x26: // &
      case 0x21: // !
      case 0x3f: // ?
        if (isNodeStart(text, i)) return true;
        break;
      case 0x5b: // [
      case 0x7b: // {
        if (isNodeStart(text, i) && !isFlowOnOneLine(text, i)) return true;
        break;
      case 0x23: // #
        if (i > 0 && CLOSERS.includes(text.charCodeAt(i - 1))) return true; // `"x"#c`: `yaml` wants a blank before a comment
        break;
      case 0x3a: // :
        if (isKeyIndicator(text, i) && isNullKeyBefore(text, i)) return true;
        break;
      case 0x3c: // <
        if (text.charCodeAt(i + 1) === 0x3c) return true;
        break;
      case 0x25: // %
        if (i === 0 || text.charCodeAt(i - 1) === 0x0a) return true;
        break;
      case 0x7c: // |
      case 0x3e: // >
        if (isNodeStart(text, i)) {
          if (hasIndentationIndicator(text, i + 1)) return true;
          lines.blockScalar = true;
        }
        break;
      case 0x09: // a tab: where it may stand, js-yaml and `yaml` do not always agree
        return true;
      case 0x2d: // -
        if ((i === 0 || text.charCodeAt(i - 1) === 0x0a) && text.startsWith('--', i + 1) && hasContentAfterMarker(text, i + 3)) return true;
        break;
    }
  }
  return false;
}

/**
 * Where the quoted scalar opening at `i` closes, or -1 when it spans lines or never closes: the
 * indentation of continuation lines is a rule js-yaml does not enforce and `yaml` does.
 */
function quotedEnd(text: string, i: number): number {
  const q = text.charCodeAt(i);
  for (let j = i + 1; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x0a || c === 0x0d) return -1;
    if (q === 0x22 && c === 0x5c) {
      const next = text.charCodeAt(++j); // an escape in "…"
      if (next === 0x0a || next === 0x0d) return -1;
    } else if (c === q) {
      if (q === 0x27 && text.charCodeAt(j + 1) === 0x27) j++; // '' in '…'
      else return j;
    }
  }
  return -1;
}

/** The characters needsExactPath looks at; a regular expression finds the next one natively (hot: megabytes of text). */
const INTERESTING = /["'*&!?:<%\-[\]{}|>#\t\n]/g;
const CLOSERS = [0x22, 0x27, 0x5d, 0x7d]; // " ' ] }

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

function skipBlanks(text: string, i: number): number {
  while (isBlank(text.charCodeAt(i))) i++;
  return i;
}

/** Whether the first non-blank character before `i` on its line is a line start or one of `-:?[{,`. */
function isNodeStart(text: string, i: number): boolean {
  let j = i - 1;
  while (j >= 0 && isBlank(text.charCodeAt(j))) j--;
  if (j < 0) return true;
  const p = text.charCodeAt(j);
  return p === 0x0a || p === 0x0d || p === 0x2d || p === 0x3a || p === 0x3f || p === 0x5b || p === 0x7b || p === 0x2c;
}

/** A `:` at `i` followed by a blank, a line break, a flow indicator or the end: a key ends here. */
function isKeyIndicator(text: string, i: number): boolean {
  if (text.charCodeAt(i) !== 0x3a) return false;
  const c = text.charCodeAt(i + 1);
  return Number.isNaN(c) || c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x2c || c === 0x5d || c === 0x7d;
}

/** The key before the `:` at `i` is empty, `~`, `null`, `Null` or `NULL`. Hot: once per key, so most keys leave at the first test. */
function isNullKeyBefore(text: string, i: number): boolean {
  let j = i - 1;
  while (j >= 0 && isBlank(text.charCodeAt(j))) j--;
  const last = j < 0 ? 0x0a : text.charCodeAt(j);
  if (last === 0x7e) return isNodeStart(text, j); // ~
  if ((last === 0x6c || last === 0x4c) && j >= 3) {
    // l or L: null, Null or NULL?
    const word = text.slice(j - 3, j + 1);
    return (word === 'null' || word === 'Null' || word === 'NULL') && isNodeStart(text, j - 3);
  }
  return isNodeStart(text, j + 1); // an empty key: nothing but blanks since the node start
}

/**
 * The block structure, line by line, as far as it shows in indentation: the columns where the
 * open block nodes start. A line indented less than the line before must come back to one of
 * them; js-yaml accepts some lines that do not (`  - a` then ` - b`), `yaml` refuses them.
 * Block scalar content is skipped. Conservative like the rest of the scan: a valid document it
 * does not follow (a plain scalar continued at a smaller indentation) only goes the exact way.
 */
class Indentation {
  private columns: number[] = [];
  /** Set when the current line opens a block scalar (`|`, `>`): its content lines are skipped. */
  blockScalar = false;
  private scalarParent = -1;

  /** Takes the line starting at `i`; false when its indentation comes back to no open column. */
  next(text: string, i: number): boolean {
    if (this.blockScalar) {
      this.scalarParent = this.columns.length > 0 ? this.columns[this.columns.length - 1]! : 0;
      this.blockScalar = false;
    }
    let j = i;
    while (text.charCodeAt(j) === 0x20) j++;
    const c = text.charCodeAt(j);
    if (Number.isNaN(c) || c === 0x0a || c === 0x0d || c === 0x23) return true; // blank or comment
    const indent = j - i;
    if (this.scalarParent >= 0) {
      if (indent > this.scalarParent) return true; // block scalar content
      this.scalarParent = -1;
    }
    if (indent === 0 && (text.startsWith('---', j) || text.startsWith('...', j))) {
      this.columns.length = 0; // a document marker
      return true;
    }
    const cols = this.columns;
    let popped = false;
    while (cols.length > 0 && cols[cols.length - 1]! > indent) {
      cols.pop();
      popped = true;
    }
    const top = cols.length > 0 ? cols[cols.length - 1]! : -1;
    if (top !== indent) {
      if (popped) return false;
      cols.push(indent);
    }
    // `- ` entries open nodes further right on the same line (`- - x`, `- key: v`).
    while (text.charCodeAt(j) === 0x2d && (text.charCodeAt(j + 1) === 0x20 || text.charCodeAt(j + 1) === 0x0a)) {
      j += 1;
      while (text.charCodeAt(j) === 0x20) j++;
      if (text.charCodeAt(j) === 0x0a) break;
      cols.push(j - i);
    }
    return true;
  }
}

/**
 * Whether the flow collection opening at `i` closes on its line. Over several lines, the
 * indentation of its continuation lines is a rule js-yaml does not enforce and `yaml` does.
 */
function isFlowOnOneLine(text: string, i: number): boolean {
  let depth = 0;
  for (let j = i; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x0a || c === 0x0d) return false;
    if (c === 0x5b || c === 0x7b) depth++;
    else if (c === 0x5d || c === 0x7d) {
      if (--depth === 0) return true;
    } else if ((c === 0x22 || c === 0x27) && isNodeStart(text, j)) {
      j = quotedEnd(text, j);
      if (j < 0) return false;
    } else if (c === 0x23 && isBlank(text.charCodeAt(j - 1))) return false; // a comment before the close
  }
  return false;
}

/** A block scalar header with an indentation indicator (`|2`, `>-1`), read differently by js-yaml. */
function hasIndentationIndicator(text: string, i: number): boolean {
  let c = text.charCodeAt(i);
  if (c === 0x2b || c === 0x2d) c = text.charCodeAt(i + 1); // + or - chomping first
  return c >= 0x31 && c <= 0x39;
}

/** Content other than a comment after a `---` at a line start ending at `i` (`---x` included: js-yaml reads `---"x"` as a marker, `yaml` as a scalar). */
function hasContentAfterMarker(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (Number.isNaN(c) || c === 0x0a || c === 0x0d) return false;
  if (!isBlank(c)) return true;
  const j = skipBlanks(text, i);
  const d = text.charCodeAt(j);
  return !(Number.isNaN(d) || d === 0x0a || d === 0x0d || d === 0x23);
}
