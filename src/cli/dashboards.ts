/** `wardwatch dashboards`: (re)generates the Grafana dashboards and provisioning files from src/dashboards. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';

export function dashboardsCommand(): Command {
  return new Command('dashboards')
    .description('Generate the Grafana dashboards (JSON) and provisioning files (datasource, provider) into a folder.')
    .option('-o, --out <dir>', 'output folder', 'dashboards')
    .addHelpText('after', '\nExamples:\n  wardwatch dashboards                 # regenerate the committed dashboards/ folder\n  wardwatch dashboards -o /etc/grafana/wardwatch\n')
    .action(async (o: { out: string }) => {
      // Loaded here, not at start-up: the Grafana SDK is only needed by this command.
      const { buildDashboards, provisioningFiles, renderDashboard } = await import('../dashboards/index.js');
      const files: [string, string][] = [
        ...buildDashboards().map((d): [string, string] => [d.file, renderDashboard(d.dashboard)]),
        ...provisioningFiles().map((p): [string, string] => [path.join('provisioning', p.file), p.text]),
      ];
      for (const [rel, text] of files) {
        const file = path.join(o.out, rel);
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, text);
        process.stdout.write(`wrote ${file}\n`);
      }
    });
}
