// Questions at the terminal, asked on stderr so stdout keeps only the command's answer.
import { createInterface } from 'node:readline';

export function canPrompt(): boolean {
  return process.stdin.isTTY === true;
}

export async function ask(question: string): Promise<string> {
  const readline = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    return await new Promise<string>((resolve) => readline.question(question, resolve));
  } finally {
    readline.close();
  }
}

/** Reads a line without echoing it: credentials must not stay on screen or in scroll-back. */
export async function askSecret(question: string): Promise<string> {
  const { stdin, stderr } = process;
  stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  try {
    return await new Promise<string>((resolve, reject) => {
      let answer = '';
      const onData = (chunk: string): void => {
        for (const character of chunk) {
          if (character === '\r' || character === '\n' || character === '\u0004') {
            stdin.off('data', onData);
            stderr.write('\n');
            resolve(answer);
            return;
          }
          if (character === '\u0003') {
            stdin.off('data', onData);
            stderr.write('\n');
            reject(new Error('cancelled'));
            return;
          }
          if (character === '\u007f' || character === '\b') answer = answer.slice(0, -1);
          else if (character >= ' ') answer += character;
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
  }
}
