// npm run config:generate: writes .env.example and the settings tables of docs/configuration.md
// from the table of settings (src/config/settings.ts). Run it after changing a setting.
import { readFileSync, writeFileSync } from 'node:fs';
import { renderEnvExample, withSettingsTables } from './config-reference.js';

const file = (name: string) => new URL(`../${name}`, import.meta.url);

writeFileSync(file('.env.example'), renderEnvExample(readFileSync(file('docker-compose.yml'), 'utf8')));
const doc = file('docs/configuration.md');
writeFileSync(doc, withSettingsTables(readFileSync(doc, 'utf8')));
console.log('wrote .env.example and docs/configuration.md');
