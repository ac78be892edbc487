import { DatabaseUrlError } from './errors';
import { parseDatabaseUrl, redactDatabaseUrl } from './connection';

describe('parseDatabaseUrl', () => {
  it('when the URL has every part, then it returns host, port, user, password, database and schema', () => {
    expect(parseDatabaseUrl('postgresql://orders:s3cret@db.internal:6543/flashsale?schema=orders')).toEqual({
      host: 'db.internal',
      port: 6543,
      user: 'orders',
      password: 's3cret',
      database: 'flashsale',
      schema: 'orders',
    });
  });

  it('when port and schema are missing, then they default to 5432 and public', () => {
    expect(parseDatabaseUrl('postgres://app@127.0.0.1/flashsale')).toEqual({
      host: '127.0.0.1',
      port: 5432,
      user: 'app',
      database: 'flashsale',
      schema: 'public',
    });
  });

  it('when user and password are percent-encoded, then they are decoded', () => {
    const connection = parseDatabaseUrl('postgresql://my%40user:p%40ss%3Aw%2Ford@localhost:5432/db?schema=payment');
    expect(connection.user).toBe('my@user');
    expect(connection.password).toBe('p@ss:w/ord');
  });

  it('when the host is an IPv6 literal, then it comes without brackets', () => {
    expect(parseDatabaseUrl('postgresql://u@[::1]:5432/db').host).toBe('::1');
  });

  it('when other query parameters are present, then they are ignored', () => {
    expect(parseDatabaseUrl('postgresql://u@h/db?sslmode=disable&schema=inventory&connection_limit=5').schema).toBe(
      'inventory',
    );
  });

  it.each([
    ['not a URL', 'not a url', /not a valid URL/],
    ['another protocol', 'mysql://u:p@h:3306/db', /must start with postgresql:\/\//],
    ['no user', 'postgresql://h:5432/db', /no user/],
    ['no database', 'postgresql://u@h:5432/', /must name one database/],
    ['a nested path', 'postgresql://u@h:5432/a/b', /must name one database/],
    ['a port out of range', 'postgresql://u@h:70000/db', /not a valid URL|invalid port/],
    ['a schema with a quote', 'postgresql://u@h/db?schema=a%22b', /Invalid schema name/],
    ['an empty schema', 'postgresql://u@h/db?schema=', /Invalid schema name/],
  ])('when the URL has %s, then it throws a DatabaseUrlError saying so', (_case, url, message) => {
    expect(() => parseDatabaseUrl(url)).toThrow(DatabaseUrlError);
    expect(() => parseDatabaseUrl(url)).toThrow(message);
  });

  it('when the URL is rejected, then the error does not show the password', () => {
    expect(() => parseDatabaseUrl('mysql://u:hunter2@h/db')).toThrow(/u:\*\*\*@h/);
    expect(() => parseDatabaseUrl('mysql://u:hunter2@h/db')).not.toThrow(/hunter2/);
  });
});

describe('redactDatabaseUrl', () => {
  it('when the URL has a password, then it is replaced by ***', () => {
    expect(redactDatabaseUrl('postgresql://orders:orders@127.0.0.1:5432/flashsale')).toBe(
      'postgresql://orders:***@127.0.0.1:5432/flashsale',
    );
  });

  it('when the URL has no password, then it is unchanged', () => {
    expect(redactDatabaseUrl('postgresql://postgres@127.0.0.1/flashsale')).toBe(
      'postgresql://postgres@127.0.0.1/flashsale',
    );
  });
});
