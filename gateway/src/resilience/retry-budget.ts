/**
 * Retries may add at most `ratio` of the calls on top (10% by default), plus a small reserve for quiet times, so a
 * struggling upstream is never hit by a retry storm: every call deposits `ratio` of a token, a retry spends one.
 */
export class RetryBudget {
  private tokens: number;

  constructor(
    private readonly ratio = 0.1,
    private readonly reserve = 10,
  ) {
    this.tokens = reserve;
  }

  /** Records a first attempt. */
  deposit(): void {
    this.tokens = Math.min(this.reserve, this.tokens + this.ratio);
  }

  /** Takes one retry from the budget, or says there is none left. */
  withdraw(): boolean {
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
