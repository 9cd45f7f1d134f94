// A mistake in how a command was called: reported with a hint to --help, exit status 2.
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
