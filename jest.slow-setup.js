// Integration and end-to-end tests boot real services and talk to real servers: allow them time.
jest.setTimeout(120_000);
