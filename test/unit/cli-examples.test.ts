import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateStaged } from '../../src/cli/validate-staged';
import { loadStaged } from '../../src/cli/config-file';
import { validateCampaignConfig } from '../../src/domain/config';

// The README's commands use these files; they must stay valid as the schema evolves.
const examples = join(__dirname, '../../examples');

describe('examples', () => {
  it('upgrade.json is a valid masterUpgrade input for `temporal workflow start --input-file`', () => {
    const result = validateCampaignConfig(JSON.parse(readFileSync(join(examples, 'upgrade.json'), 'utf8')));
    expect(result).toMatchObject({ ok: true });
  });

  it('config.yaml is a staged config that `ciu write memory` accepts, equal to upgrade.json', () => {
    const staged = loadStaged(examples);
    expect(staged.campaign).toBe('spring-2026');
    const fromYaml = validateStaged(staged);
    const fromJson = validateCampaignConfig(JSON.parse(readFileSync(join(examples, 'upgrade.json'), 'utf8')));
    expect(fromJson.ok && fromJson.config).toEqual(fromYaml);
  });
});
