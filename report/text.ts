// Plain-text layout shared by the terminal reports: the width they are laid
// out for and word wrapping.

/** Width the report is laid out for; tables of typical runs fit in it. */
export const TABLE_WIDTH = 120;

/** Words of `text` on lines of at most `width` columns, each prefixed by `indent` (a longer word stays whole). */
export function wrap(text: string, width: number, indent: string, firstIndent = indent): string[] {
  const lines: string[] = [];
  let line = firstIndent;
  let empty = true;
  for (const word of text.split(/\s+/).filter((w) => w.length > 0)) {
    if (!empty && line.length + 1 + word.length > width) {
      lines.push(line);
      line = indent;
      empty = true;
    }
    line += (empty ? '' : ' ') + word;
    empty = false;
  }
  lines.push(line);
  return lines;
}

