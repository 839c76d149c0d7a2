// Writes pxeboot_stack/boot-rules.conf from the boot rules table (bootrules.ts): `npx tsx server/lab/provisioner/bootrules-file.ts`.
import fs from 'node:fs';
import path from 'node:path';
import { renderBootRules } from './bootrules.ts';

fs.writeFileSync(path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../pxeboot_stack/boot-rules.conf'), renderBootRules());
