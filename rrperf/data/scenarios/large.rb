# Built-in rrperf scenario "large": an eighteen-table project-management application.
# Written for rrperf in the layout of a Rails 8.0 PostgreSQL schema dump.
#
# This file is auto-generated from the current state of the database. Instead
# of editing this file, please use the migrations feature of Active Record to
# incrementally modify your database, and then regenerate this schema definition.
#
# It's strongly recommended that you check this file into your version control system.

ActiveRecord::Schema[8.0].define(version: 2025_09_21_083012) do
  # These are extensions that must be enabled in order to support this database
  enable_extension "citext"
  enable_extension "pg_catalog.plpgsql"
  enable_extension "pgcrypto"

  # Custom types defined in this database.
  # Note that some types may not work with other database engines. Be careful if changing database.
  create_enum "membership_role", ["owner", "admin", "member", "guest"]
  create_enum "task_priority", ["low", "normal", "high", "urgent"]
  create_enum "task_state", ["backlog", "ready", "in_progress", "in_review", "done", "wont_do"]

  create_table "attachments", force: :cascade do |t|
    t.bigint "task_id", null: false
    t.bigint "uploader_id", null: false
    t.string "filename", null: false
    t.string "content_type", null: false
    t.bigint "byte_size", null: false
    t.string "checksum", null: false
    t.binary "thumbnail"
    t.datetime "created_at", null: false
    t.datetime "updated_at", null: false
    t.index ["task_id"], name: "index_attachments_on_task_id"
    t.index ["uploader_id"], name: "index_attachments_on_uploader_id"
  end

  create_table "audit_events", force: :cascade do |t|
    t.bigint "organization_id", null: false
    t.bigint "actor_id"
    t.string "action", null: false
    t.jsonb "changeset", default: {}, null: false
    t.inet "remote_ip"
    t.datetime "occurred_at", default: -> { "CURRENT_TIMESTAMP" }, null: false
    t.index ["actor_id"], name: "index_audit_events_on_actor_id"
    t.index ["organization_id", "occurred_at"], name: "index_audit_events_on_organization_id_and_occurred_at", order: { occurred_at: :desc }
  end

  create_table "comments", force: :cascade do |t|
    t.bigint "task_id", null: false
    t.bigint "author_id", null: false
    t.text "body", null: false
    t.boolean "edited", default: false, null: false
    t.datetime "created_at", null: false
    t.datetime "updated_at", null: false
    t.index ["author_id"], name: "index_comments_on_author_id"
    t.index ["task_id", "created_at"], name: "index_comments_on_task_id_and_created_at"
  end

  create_table "invoice_lines", force: :cascade do |t|
    t.bigint "invoice_id", null: false
    t.bigint "project_id"
    t.string "description", null: false
    t.decimal "quantity", precision: 10, scale: 2, default: "1.0", null: false
    t.decimal "unit_amount", precision: 12, scale: 2, null: false
    t.integer "position", default: 0, null: false
    t.datetime "created_at", null: false
    t.datetime "updated_at", null: false
    t.index ["invoice_id", "position"], name: "index_invoice_lines_on_invoice_id_and_position"
    t.index ["project_id"], name: "index_invoice_lines_on_project_id"
  end

  create_table "invoices", force: :cascade do |t|
    t.bigint "organization_id", null: false
    t.string "number", null: false
    t.date "issued_on", null: false
    t.date "due_on"
    t.decimal "total", precision: 14, scale: 2, default: "0.0", null: false
    t.string "currency", limit: 3, default: "USD", null: false
    t.datetime "paid_at"
    t.datetime "created_at", null: false
    t.datetime "updated_at", null: false
    t.index ["organization_id", "number"], name: "index_invoices_on_organization_id_and_number", unique: true
  end

  create_table "labels", force: :cascade do |t|
    t.bigint "project_id", null: false
    t.string "name", null: false
    t.string "color", limit: 7, default: "#808080", null: false
    t.datetime "created_at", null: false
    t.datetime "updated_at", null: false
    t.index ["project_id", "name"], name: "index_labels_on_project_id_and_name", unique: true
  end

  create_table "memberships", force: :cascade do |t|
    t.bigint "organization_id", null: false
    t.bigint "user_id", null: false
    t.enum "role", default: "member", null: false, enum_type: "membership_role"
    t.datetime "invited_at"
    t.datetime "accepted_at"
    t.datetime "created_at", null: false
    t.datetime "updated_at", null: false
    t.index ["organization_id", "user_id"], name: "index_memberships_on_organization_id_and_user_id", unique: true
    t.index ["user_id"], name: "index_memberships_on_user_id"
  end

  create_table "milestones", force: :cascade do |t|
    t.bigint "project_id", null: false
    t.string "title", null: false
    t.text "description"
    t.date "due_on"
    t.boolean "closed", default: false, null: false
    t.datetime "created_at", null: false
    t.datetime "updated_at", null: false
    t.index ["project_id", "due_on"], name: "index_milestones_on_project_id_and_due_on"
  end

  create_table "notifications", force: :cascade do |t|
    t.bigint "recipient_id", null: false
    t.bigint "task_id"
    t.string "kind", null: false
    t.jsonb "payload", default: {}, null: false
    t.datetime "read_at"
    t.datetime "created_at", null: false
    t.datetime "updated_at", null: false
    t.index ["recipient_id", "read_at"], name: "index_notifications_on_recipient_id_and_read_at"
    t.index ["task_id"], name: "index_notifications_on_task_id"
  end

  create_table "organizations", force: :cascade do |t|
    t.string "name", null: false
    t.citext "subdomain", null: false
    t.string "plan", default: "free", null: false
    t.integer "seat_limit", default: 5, null: false
    t.jsonb "billing_details", default: {}, null: false
    t.uuid "external_id", default: -> { "gen_random_uuid()" }, null: false
    t.datetime "trial_ends_at"
    t.datetime "created_at", null: false
    t.datetime "updated_at", null: false
    t.index ["external_id"], name: "index_organizations_on_external_id", unique: true
    t.index ["subdomain"], name: "index_organizations_on_subdomain", unique: true
  end

  create_table "project_members", force: :cascade do |t|
    t.bigint "project_id", null: false
    t.bigint "user_id", null: false
    t.datetime "created_at", null: false
    t.datetime "updated_at", null: false
    t.index ["project_id", "user_id"], name: "index_project_members_on_project_id_and_user_id", unique: true
    t.index ["user_id"], name: "index_project_members_on_user_id"
  end

  create_table "projects", force: :cascade do |t|
    t.bigint "organization_id", null: false
    t.bigint "lead_id"
    t.string "name", null: false
    t.string "key", limit: 10, null: false
    t.text "description"
    t.boolean "archived", default: false, null: false
    t.decimal "budget_hours", precision: 10, scale: 1
    t.date "starts_on"
    t.date "ends_on"
    t.datetime "created_at", null: false
    t.datetime "updated_at", null: false
    t.index ["lead_id"], name: "index_projects_on_lead_id"
    t.index ["organization_id", "key"], name: "index_projects_on_organization_id_and_key", unique: true
  end

  create_table "sprints", force: :cascade do |t|
    t.bigint "project_id", null: false
    t.string "name", null: false
    t.date "starts_on", null: false
    t.date "ends_on", null: false
    t.text "goal"
    t.datetime "created_at", null: false
    t.datetime "updated_at", null: false
    t.index ["project_id", "starts_on"], name: "index_sprints_on_project_id_and_starts_on"
    t.check_constraint "ends_on >= starts_on", name: "sprints_dates_ordered"
  end

  create_table "task_labels", force: :cascade do |t|
    t.bigint "task_id", null: false
    t.bigint "label_id", null: false
    t.datetime "created_at", null: false
    t.datetime "updated_at", null: false
    t.index ["label_id"], name: "index_task_labels_on_label_id"
    t.index ["task_id", "label_id"], name: "index_task_labels_on_task_id_and_label_id", unique: true
  end

  create_table "tasks", force: :cascade do |t|
    t.bigint "project_id", null: false
    t.bigint "parent_id"
    t.bigint "milestone_id"
    t.bigint "sprint_id"
    t.bigint "creator_id", null: false
    t.bigint "assignee_id"
    t.integer "number", null: false
    t.string "title", null: false
    t.text "description"
    t.enum "state", default: "backlog", null: false, enum_type: "task_state"
    t.enum "priority", default: "normal", null: false, enum_type: "task_priority"
    t.decimal "estimate_hours", precision: 6, scale: 2
    t.integer "position", default: 0, null: false
    t.date "due_on"
    t.datetime "completed_at"
    t.datetime "created_at", null: false
    t.datetime "updated_at", null: false
    t.index ["assignee_id", "state"], name: "index_tasks_on_assignee_id_and_state"
    t.index ["creator_id"], name: "index_tasks_on_creator_id"
    t.index ["milestone_id"], name: "index_tasks_on_milestone_id"
    t.index ["parent_id"], name: "index_tasks_on_parent_id"
    t.index ["project_id", "number"], name: "index_tasks_on_project_id_and_number", unique: true
    t.index ["sprint_id"], name: "index_tasks_on_sprint_id"
  end

  create_table "time_entries", force: :cascade do |t|
    t.bigint "task_id", null: false
    t.bigint "user_id", null: false
    t.decimal "hours", precision: 5, scale: 2, null: false
    t.date "spent_on", null: false
    t.boolean "billable", default: true, null: false
    t.text "note"
    t.datetime "created_at", null: false
    t.datetime "updated_at", null: false
    t.index ["task_id"], name: "index_time_entries_on_task_id"
    t.index ["user_id", "spent_on"], name: "index_time_entries_on_user_id_and_spent_on"
    t.check_constraint "hours > 0::numeric", name: "time_entries_hours_positive"
  end

  create_table "user_settings", force: :cascade do |t|
    t.bigint "user_id", null: false
    t.string "time_zone", default: "UTC", null: false
    t.string "locale", default: "en", null: false
    t.boolean "email_digest", default: true, null: false
    t.integer "working_days", default: [1, 2, 3, 4, 5], null: false, array: true
    t.jsonb "shortcuts", default: {}, null: false
    t.datetime "created_at", null: false
    t.datetime "updated_at", null: false
    t.index ["user_id"], name: "index_user_settings_on_user_id", unique: true
  end

  create_table "users", force: :cascade do |t|
    t.citext "email", null: false
    t.string "name", null: false
    t.string "avatar_url"
    t.string "encrypted_password", default: "", null: false
    t.datetime "confirmed_at"
    t.datetime "last_seen_at", default: -> { "CURRENT_TIMESTAMP" }
    t.integer "failed_attempts", default: 0, null: false
    t.datetime "created_at", null: false
    t.datetime "updated_at", null: false
    t.index ["email"], name: "index_users_on_email", unique: true
  end

  add_foreign_key "attachments", "tasks", on_delete: :cascade
  add_foreign_key "attachments", "users", column: "uploader_id"
  add_foreign_key "audit_events", "organizations", on_delete: :cascade
  add_foreign_key "audit_events", "users", column: "actor_id", on_delete: :nullify
  add_foreign_key "comments", "tasks", on_delete: :cascade
  add_foreign_key "comments", "users", column: "author_id"
  add_foreign_key "invoice_lines", "invoices", on_delete: :cascade
  add_foreign_key "invoice_lines", "projects", on_delete: :nullify
  add_foreign_key "invoices", "organizations"
  add_foreign_key "labels", "projects", on_delete: :cascade
  add_foreign_key "memberships", "organizations", on_delete: :cascade
  add_foreign_key "memberships", "users", on_delete: :cascade
  add_foreign_key "milestones", "projects", on_delete: :cascade
  add_foreign_key "notifications", "tasks", on_delete: :cascade
  add_foreign_key "notifications", "users", column: "recipient_id", on_delete: :cascade
  add_foreign_key "project_members", "projects", on_delete: :cascade
  add_foreign_key "project_members", "users", on_delete: :cascade
  add_foreign_key "projects", "organizations"
  add_foreign_key "projects", "users", column: "lead_id", on_delete: :nullify
  add_foreign_key "sprints", "projects", on_delete: :cascade
  add_foreign_key "task_labels", "labels", on_delete: :cascade
  add_foreign_key "task_labels", "tasks", on_delete: :cascade
  add_foreign_key "tasks", "milestones", on_delete: :nullify
  add_foreign_key "tasks", "projects"
  add_foreign_key "tasks", "sprints", on_delete: :nullify
  add_foreign_key "tasks", "tasks", column: "parent_id", on_delete: :cascade
  add_foreign_key "tasks", "users", column: "assignee_id", on_delete: :nullify
  add_foreign_key "tasks", "users", column: "creator_id"
  add_foreign_key "time_entries", "tasks"
  add_foreign_key "time_entries", "users"
  add_foreign_key "user_settings", "users", on_delete: :cascade
end
