import { readFileSync } from 'node:fs';
import test from 'ava';
import { SETTINGS } from '../src/config.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

test('readme - documents every setting with its flag and environment variable', (t) => {
  for (const s of SETTINGS) {
    t.true(readme.includes(`| \`--${s.flag}\` | \`${s.env}\` |`), `--${s.flag} / ${s.env} missing from the settings table`);
  }
});

test('readme - names the start and test commands', (t) => {
  t.true(readme.includes('npm ci && npm start'));
  t.true(readme.includes('npm test'));
});
