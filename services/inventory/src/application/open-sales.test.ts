import { OpenSales, type OpenSaleList } from './open-sales';

/** A list that answers what `sales` holds when it is read, or waits for `hold` to be released. */
function fakeList() {
  const sales = new Map<string, number>();
  let hold: Promise<void> | undefined;
  const list: OpenSaleList = {
    async listOpen(now) {
      const answer = [...sales].filter(([, ends]) => ends > now.getTime());
      await hold;
      return answer.map(([promotionId, ends]) => ({ promotionId, endsAt: new Date(ends) }));
    },
  };
  return {
    list,
    sales,
    hold() {
      let release: () => void = () => undefined;
      hold = new Promise<void>((resolve) => (release = resolve));
      return () => {
        hold = undefined;
        release();
      };
    },
  };
}

describe('open sales', () => {
  let now = 1_000_000;
  const clock = () => now;

  it('when a sale is prepared, then it is open until its window ends, and closes once, on the refresh after', async () => {
    const { list } = fakeList();
    const sales = new OpenSales(list, clock);
    const closed: string[] = [];
    sales.onClose((id) => closed.push(id));
    sales.note('1', new Date(now + 1_000));
    expect(sales.state('1')).toBe('open');
    expect(sales.ids()).toEqual(['1']);
    now += 1_000;
    expect(sales.state('1')).toBe('closed');
    expect(sales.ids()).toEqual([]);
    await sales.refresh();
    await sales.refresh();
    expect(closed).toEqual(['1']);
  });

  it('when another replica prepared a sale, then a refresh opens it; when the list drops it, then it closes', async () => {
    const fake = fakeList();
    const sales = new OpenSales(fake.list, clock);
    const closed: string[] = [];
    sales.onClose((id) => closed.push(id));
    fake.sales.set('2', now + 60_000);
    expect(sales.state('2')).toBe('unknown');
    await sales.refresh();
    expect(sales.state('2')).toBe('open');
    fake.sales.delete('2');
    await sales.refresh();
    expect(sales.state('2')).toBe('closed');
    expect(closed).toEqual(['2']);
  });

  it('when a sale is only seen selling, then it stays unknown until a refresh opens or closes it', async () => {
    const fake = fakeList();
    const sales = new OpenSales(fake.list, clock);
    const closed: string[] = [];
    sales.onClose((id) => closed.push(id));
    fake.sales.set('3', now + 60_000);
    sales.saw('3');
    sales.saw('4');
    expect([sales.state('3'), sales.state('4')]).toEqual(['unknown', 'unknown']);
    await sales.refresh();
    expect([sales.state('3'), sales.state('4')]).toEqual(['open', 'closed']);
    expect(closed).toEqual(['4']);
    sales.saw('4');
    expect(sales.state('4')).toBe('closed');
  });

  it('when a sale is prepared while a refresh reads the list, then that refresh does not close it', async () => {
    const fake = fakeList();
    const sales = new OpenSales(fake.list, clock);
    const release = fake.hold();
    const refreshing = sales.refresh();
    sales.note('5', new Date(now + 60_000)); // the list was read before the sale was written
    release();
    await refreshing;
    expect(sales.state('5')).toBe('open');
  });
});
