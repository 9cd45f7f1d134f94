import { readFileSync } from 'node:fs';

// package.json sits two levels up from both src/core and dist/core.
const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name: string; version: string };

export const PACKAGE_NAME = manifest.name;
export const PACKAGE_VERSION = manifest.version;
