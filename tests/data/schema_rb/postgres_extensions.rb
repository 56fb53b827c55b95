# A lago / mastodon / chatwoot style dump: enums, views, triggers, functions.

ActiveRecord::Schema[7.2].define(version: 2025_03_01_120000) do
  create_schema "auth"

  # These are extensions that must be enabled in order to support this database
  enable_extension "pg_catalog.plpgsql"
  enable_extension "uuid-ossp"

  # Custom types defined in this database.
  # Note that some types may not work with other database engines. Be careful if changing database.
  create_enum "account_status", ["ok", "syncing", "error"]
  create_enum "customer_account_type", ["customer", "partner"]

  create_table "customers", id: :uuid, default: -> { "gen_random_uuid()" }, force: :cascade do |t|
    t.enum "account_type", default: "customer", null: false, enum_type: "customer_account_type"
    t.virtual "classification", type: :string, as: "\nCASE\n    WHEN ((accountable_type)::text = ANY ((ARRAY['Loan'::character varying])::text[])) THEN 'liability'::text\n    ELSE 'asset'::text\nEND", stored: true
    t.jsonb "conditions", default: "{}", null: false
  end

  create_table "jobs", id: :uuid, default: nil, force: :cascade do |t|
    t.string "queue"
  end

  add_foreign_key "jobs", "customers", on_delete: :cascade

  create_view "last_hour_events_mv", materialized: true, sql_definition: <<-SQL
      WITH billable_metric_filters AS (
        SELECT 'end' AS word, 'do' AS other
      )
      SELECT ((events.properties ->> 'x') ~ '^-?\\d+(\\.\\d+)?$'::text) AS is_numeric_field_value
      FROM billable_metric_filters
    end
  SQL
  add_index "last_hour_events_mv", ["queue"], name: "index_last_hour_events_mv_on_queue", unique: true
  create_view "exports_fees", sql_definition: <<-SQL
      SELECT 1;
  SQL

  create_trigger("accounts_after_insert_row_tr", :generated => true, :compatibility => 1).
      on("accounts").
      after(:insert).
      for_each(:row) do
    "execute format('create sequence IF NOT EXISTS conv_dpid_seq_%s', NEW.id);"
  end

  create_function :logidze_logger, sql_definition: <<-'SQL'
      CREATE OR REPLACE FUNCTION public.logidze_logger() RETURNS trigger AS $body$
      BEGIN
        IF TG_OP = 'INSERT' THEN RETURN NEW; END IF;
      END;
      $body$ LANGUAGE plpgsql;
  SQL

  execute "CREATE SCHEMA IF NOT EXISTS auth"

  create_table "tags", force: :cascade do |t|
    t.string "name", null: false
  end
end
