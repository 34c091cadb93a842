import type { Command, Option } from 'commander';

/**
 * What is wrong with a `tablevault …` command line as the program defines it, without running it:
 * an unknown command or flag, a flag without its value, a value its parser or choices refuse, too
 * few or too many arguments. Each problem names the flag or command. Program options
 * (--log-level, --quiet) are taken anywhere, as commander takes them.
 */
export function argvProblems(program: Command, argv: readonly string[]): string[] {
  const problems: string[] = [];
  let i = 0;
  const global = (name: string) => findOption(program, name);

  const takeOption = (cmd: Command, token: string): void => {
    const eq = token.indexOf('=');
    const name = token.startsWith('--') && eq > 0 ? token.slice(0, eq) : token;
    const inline = name === token ? undefined : token.slice(eq + 1);
    if (name === '--help' || name === '-h') return;
    const opt = findOption(cmd, name) ?? global(name);
    const where = cmd === program ? 'tablevault' : `tablevault ${cmd.name()}`;
    if (!opt) {
      problems.push(`${where} has no option ${name}`);
      return;
    }
    const values: string[] = [];
    if (inline !== undefined) values.push(inline);
    else if (opt.required || opt.optional) {
      const next = argv[i];
      if (next !== undefined && (opt.required || !next.startsWith('-'))) {
        values.push(next);
        i++;
      } else if (opt.required) problems.push(`${where} ${name} needs a value (${opt.flags})`);
    }
    if (opt.variadic) while (argv[i] !== undefined && !argv[i]!.startsWith('-')) values.push(argv[i++]!);
    for (const v of values) problems.push(...valueProblems(where, name, opt, v));
  };

  while (i < argv.length && argv[i]!.startsWith('-')) takeOption(program, argv[i++]!);
  if (i >= argv.length) return problems;
  const name = argv[i++]!;
  const cmd = program.commands.find((c) => c.name() === name || c.aliases().includes(name));
  if (!cmd) return [...problems, `tablevault has no command ${name}`];

  const operands: string[] = [];
  while (i < argv.length) {
    const token = argv[i++]!;
    if (token === '--') {
      operands.push(...argv.slice(i));
      break;
    }
    if (token.length > 1 && token.startsWith('-')) takeOption(cmd, token);
    else operands.push(token);
  }
  const declared = cmd.registeredArguments;
  const needed = declared.filter((a) => a.required).length;
  const variadic = declared.at(-1)?.variadic ?? false;
  if (operands.length < needed)
    problems.push(`tablevault ${name} needs ${declared.map((a) => a.name()).join(', ')}; got ${operands.length}`);
  if (!variadic && operands.length > declared.length)
    problems.push(`tablevault ${name} takes ${declared.length} argument(s); got ${operands.join(' ')}`);
  return problems;
}

function findOption(cmd: Command, name: string): Option | undefined {
  return cmd.options.find((o) => o.long === name || o.short === name || (o.negate && o.long === name));
}

function valueProblems(where: string, name: string, opt: Option, v: string): string[] {
  if (opt.argChoices && !opt.argChoices.includes(v))
    return [`${where} ${name} ${v}: not one of ${opt.argChoices.join(', ')}`];
  try {
    opt.parseArg?.(v, undefined);
    return [];
  } catch (e) {
    return [`${where} ${name} ${v}: ${(e as Error).message}`];
  }
}
