// Types of build-console.mjs for the tests and the benchmark that call it.
export interface ConsoleBuild {
  outDir: string;
  /** Paths relative to outDir: `assets/app-<hash>.js`, `assets/app-<hash>.css`. */
  script: string;
  style: string;
}
export function buildConsole(options?: { outDir?: string; minify?: boolean }): Promise<ConsoleBuild>;
