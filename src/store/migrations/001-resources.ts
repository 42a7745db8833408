/**
 * Resources, their versions and the search index. One row per resource in `resource` (current
 * version), every version in `resource_version`; search parameters are indexed on write into one
 * table per search parameter type, keyed by the resource's surrogate `rid`, so no search scans
 * JSON. `compartments` is reserved for the access-control issue (team compartments enforced inside
 * queries): it gets its GIN index in the migration that starts filling it.
 */
export const sql = `
CREATE TABLE resource (
  rid           bigint GENERATED ALWAYS AS IDENTITY,
  type          text        NOT NULL,
  id            text        NOT NULL,
  version_id    integer     NOT NULL,
  last_updated  timestamptz NOT NULL,
  deleted       boolean     NOT NULL DEFAULT false,
  content       text,
  compartments  text[]      NOT NULL DEFAULT '{}',
  -- the key carries what filters and sorting need, so they never read the JSON
  CONSTRAINT resource_pkey PRIMARY KEY (rid) INCLUDE (type, deleted, last_updated),
  CONSTRAINT resource_type_id UNIQUE (type, id)
);
CREATE INDEX resource_type_updated ON resource (type, last_updated, rid) WHERE NOT deleted;

CREATE TABLE resource_version (
  rid           bigint      NOT NULL,
  version_id    integer     NOT NULL,
  type          text        NOT NULL,
  id            text        NOT NULL,
  last_updated  timestamptz NOT NULL,
  deleted       boolean     NOT NULL DEFAULT false,
  method        text        NOT NULL,
  content       text,
  seq           bigint GENERATED ALWAYS AS IDENTITY,
  PRIMARY KEY (rid, version_id)
);
CREATE INDEX resource_version_updated ON resource_version (last_updated, seq);
CREATE INDEX resource_version_type_updated ON resource_version (type, last_updated, seq);

CREATE TABLE sp_token (
  rid bigint NOT NULL, type text NOT NULL, param text NOT NULL,
  system text, code text, text_norm text
);
CREATE INDEX sp_token_value ON sp_token (type, param, code, rid);
CREATE INDEX sp_token_rid ON sp_token (rid, param);

CREATE TABLE sp_string (
  rid bigint NOT NULL, type text NOT NULL, param text NOT NULL,
  value text NOT NULL, value_norm text NOT NULL
);
CREATE INDEX sp_string_value ON sp_string (type, param, value_norm text_pattern_ops, rid);
CREATE INDEX sp_string_rid ON sp_string (rid, param);

CREATE TABLE sp_date (
  rid bigint NOT NULL, type text NOT NULL, param text NOT NULL,
  lo timestamptz NOT NULL, hi timestamptz NOT NULL
);
CREATE INDEX sp_date_value ON sp_date (type, param, lo, hi);
CREATE INDEX sp_date_rid ON sp_date (rid, param);

-- last_updated repeats the resource's, so a queue (owner = X, newest first) is read in order
-- straight from this index; index rows are rewritten with every version anyway
CREATE TABLE sp_reference (
  rid bigint NOT NULL, type text NOT NULL, param text NOT NULL,
  target_type text, target_id text, target_url text, last_updated timestamptz NOT NULL
);
CREATE INDEX sp_reference_target ON sp_reference (type, param, target_id, last_updated, rid) INCLUDE (target_type);
CREATE INDEX sp_reference_url ON sp_reference (type, param, target_url) WHERE target_url IS NOT NULL;
CREATE INDEX sp_reference_rid ON sp_reference (rid, param);

CREATE TABLE sp_number (
  rid bigint NOT NULL, type text NOT NULL, param text NOT NULL,
  value numeric NOT NULL, system text, code text
);
CREATE INDEX sp_number_value ON sp_number (type, param, value);
CREATE INDEX sp_number_rid ON sp_number (rid, param);

CREATE TABLE sp_uri (
  rid bigint NOT NULL, type text NOT NULL, param text NOT NULL,
  value text NOT NULL
);
CREATE INDEX sp_uri_value ON sp_uri (type, param, value text_pattern_ops);
CREATE INDEX sp_uri_rid ON sp_uri (rid, param);
`;
