// Builds the web console (console/src, TypeScript + Preact) into dist/console: one hashed script
// and one hashed stylesheet under assets/, and index.html naming them by relative URL (so the page
// works under any path prefix). `npm run build` runs it after tsc; tests call buildConsole().
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Builds into `outDir` (default dist/console); answers the asset file names. */
export async function buildConsole({ outDir = join(root, 'dist', 'console'), minify = true } = {}) {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(join(outDir, 'assets'), { recursive: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: ['console/src/main.tsx'],
    bundle: true,
    format: 'esm',
    target: ['chrome110', 'firefox115', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify,
    sourcemap: false,
    legalComments: 'none',
    outdir: join(outDir, 'assets'),
    entryNames: 'app-[hash]',
    assetNames: '[name]-[hash]',
    metafile: true,
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((path) => basename(path));
  const script = outputs.find((name) => name.endsWith('.js'));
  const style = outputs.find((name) => name.endsWith('.css'));
  if (script === undefined || style === undefined) throw new Error(`console build: expected a script and a stylesheet, got ${outputs.join(', ')}`);
  const html = readFileSync(join(root, 'console', 'index.html'), 'utf8').replace('%SCRIPT%', `assets/${script}`).replace('%STYLE%', `assets/${style}`);
  writeFileSync(join(outDir, 'index.html'), html);
  copyFileSync(join(root, 'console', 'favicon.svg'), join(outDir, 'favicon.svg'));
  return { outDir, script: `assets/${script}`, style: `assets/${style}` };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const built = await buildConsole();
  console.log(`console built: ${built.outDir} (${built.script}, ${built.style})`);
}
