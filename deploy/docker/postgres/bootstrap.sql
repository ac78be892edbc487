-- The mesh's database, roles and schemas; run by the postgres image's entrypoint (deploy/docker/postgres/
-- entrypoint.sh) at every start, through psql as the superuser, so it must stay idempotent.
-- scripts/infra.sh runs this same file for the local cluster (its DATABASE and SERVICE_ROLES must match).
-- Database flashsale (or the psql variable `database`: scripts/infra.sh also makes flashsale_test for the tests);
-- per service a LOGIN role owning the schema of the same name, with its search_path there, created with its name as
-- password (the postgres image then sets the one it is given: passwords.sql).
-- Roles get no rights on each other's schemas, and nobody creates objects in `public`.
\if :{?database}
\else
  \set database flashsale
\endif
SELECT format('CREATE DATABASE %I', :'database') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'database')
\gexec
\connect :database
DO $$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['promotion', 'inventory', 'orders', 'payment'] LOOP
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L', r, r);
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r AND rolcanlogin) THEN
      EXECUTE format('ALTER ROLE %I LOGIN', r);
    END IF;
    EXECUTE format('CREATE SCHEMA IF NOT EXISTS %I AUTHORIZATION %I', r, r);
    IF (SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = r) <> quote_ident(r) THEN
      EXECUTE format('ALTER SCHEMA %I OWNER TO %I', r, r);
    END IF;
    IF NOT EXISTS (SELECT FROM pg_db_role_setting s JOIN pg_roles o ON o.oid = s.setrole
                   WHERE o.rolname = r AND s.setdatabase = 0 AND s.setconfig @> ARRAY['search_path=' || r]) THEN
      EXECUTE format('ALTER ROLE %I SET search_path = %I', r, r);
    END IF;
  END LOOP;
END
$$;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
