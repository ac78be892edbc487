-- Sets the password of the role named by psql's variable `role` from the environment variable named by `variable`,
-- when that is set and not empty; otherwise the role keeps its password. The entrypoint runs it for each service
-- role at every start, after bootstrap.sql, so a changed credentials Secret takes effect with a restart. The
-- password is read with \getenv, never put on a command line, and the server stores only its SCRAM hash.
\getenv password :variable
\if :{?password}
SELECT format('ALTER ROLE %I PASSWORD %L', :'role', :'password') WHERE :'password' <> ''
\gexec
\endif
