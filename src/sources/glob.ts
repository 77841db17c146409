/**
 * A source path's glob (`*` and `?` within a folder, `**` across folders), matched the same way
 * whether the files are local or objects in S3, whose listing knows no globs.
 */

/** A glob as a regular expression's source, every other character literal; `**` followed by a slash also matches no folder, as in DuckDB. */
export function globRegexSource(glob: string): string {
  const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const withinFolder = (part: string) => part.split('*').map((piece) => piece.split('?').map(literal).join('[^/]')).join('[^/]*');
  return glob
    .split('**/')
    .map((folders) => folders.split('**').map(withinFolder).join('.*'))
    .join('(?:.*/)?');
}

/** Whether `path` matches the whole glob. */
export function globMatcher(glob: string): (path: string) => boolean {
  const regex = new RegExp(`^${globRegexSource(glob)}$`);
  return (path) => regex.test(path);
}

/** What every match starts with: the glob up to its first glob character. */
export function literalPrefix(glob: string): string {
  const first = glob.search(/[*?]/);
  return first < 0 ? glob : glob.slice(0, first);
}
