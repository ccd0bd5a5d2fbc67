import path from 'node:path';
import ts from 'typescript';
import { projectRoot } from '../../core/paths.js';

/**
 * Checks rendered objects (as read back from the YAML) against the Kubernetes API's TypeScript interfaces
 * (kubernetes-types) with the TypeScript compiler: each object becomes an object literal assigned to its
 * kind's type in a virtual source file, so the compiler's excess-property check rejects every unknown or
 * misplaced field at any depth, and missing required fields and wrong types are errors too. This is the
 * check the schema validators (k8s/validate.ts) cannot make: the OpenAPI document leaves objects open.
 *
 * @returns one problem per diagnostic, naming the object (`Kind/name`) and the compiler's message
 */
export function typecheckManifests(objects: readonly unknown[]): string[] {
  const TYPES: Record<string, { from: string; type: string }> = {
    ConfigMap: { from: 'kubernetes-types/core/v1.js', type: 'ConfigMap' },
    Service: { from: 'kubernetes-types/core/v1.js', type: 'Service' },
    Pod: { from: 'kubernetes-types/core/v1.js', type: 'Pod' },
    Job: { from: 'kubernetes-types/batch/v1.js', type: 'Job' },
  };
  // Beside the sources, so that module resolution finds node_modules and package.json's "type": "module".
  const file = path.join(projectRoot, 'test', 'k8s', '__rendered_manifests__.ts');
  const lines = [
    "import type { ConfigMap, Pod, Service } from 'kubernetes-types/core/v1.js';",
    "import type { Job } from 'kubernetes-types/batch/v1.js';",
  ];
  const starts: { line: number; id: string }[] = [];
  const problems: string[] = [];
  objects.forEach((o, i) => {
    const kind = (o as { kind?: unknown }).kind;
    const id = `${String(kind)}/${String((o as { metadata?: { name?: unknown } }).metadata?.name ?? '?')}`;
    const t = typeof kind === 'string' ? TYPES[kind] : undefined;
    if (!t) {
      problems.push(`${id}: no type for kind ${JSON.stringify(kind)}`);
      return;
    }
    starts.push({ line: lines.length, id });
    lines.push(...`export const o${i}: ${t.type} = ${JSON.stringify(o, null, 1)};`.split('\n'));
  });
  const source = lines.join('\n') + '\n';
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ['lib.es2022.d.ts'],
    types: [],
    skipLibCheck: true,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  host.getSourceFile = (name, lang, ...rest) => (name === file ? ts.createSourceFile(name, source, lang, true) : getSourceFile(name, lang, ...rest));
  host.fileExists = (name) => name === file || fileExists(name);
  host.readFile = (name) => (name === file ? source : readFile(name));
  const program = ts.createProgram([file], options, host);
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const text = ts.flattenDiagnosticMessageText(d.messageText, ' ');
    if (!d.file || d.start === undefined) {
      problems.push(text);
      continue;
    }
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    const owner = [...starts].reverse().find((s) => s.line <= line);
    problems.push(`${owner?.id ?? path.basename(d.file.fileName)}: ${text}`);
  }
  return problems;
}
