/** CPU lists as taskset writes them: "0-2,5" → [0, 1, 2, 5] (ranges inclusive, order kept, bad parts skipped). */
export function expandCpuList(list: string): number[] {
  const out: number[] = [];
  for (const part of list.split(',')) {
    const [a, b] = part.split('-').map(Number);
    if (a === undefined || Number.isNaN(a)) continue;
    for (let c = a; c <= (b ?? a); c++) out.push(c);
  }
  return out;
}

/** Whether two CPU lists name the same set of CPUs ("0-1" equals "1,0"). */
export function sameCpus(a: string, b: string): boolean {
  const norm = (s: string) => [...new Set(expandCpuList(s))].sort((x, y) => x - y).join(',');
  return norm(a) === norm(b);
}
