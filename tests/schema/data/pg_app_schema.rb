# A small Rails 7 PostgreSQL application schema: uuid keys, foreign keys, an enum type, an
# array, jsonb, a check constraint, a partial index and a polymorphic pair. The PostgreSQL
# tests load its DDL (rrperf.schema.ddl) into a real server and compare the generated models.

ActiveRecord::Schema[7.1].define(version: 2026_11_30_120000) do
  enable_extension "pgcrypto"
  enable_extension "plpgsql"

  create_enum "post_status", ["draft", "published", "archived"]

  create_table "comments", id: :uuid, default: -> { "gen_random_uuid()" }, force: :cascade do |t|
    t.string "commentable_type", null: false
    t.uuid "commentable_id", null: false
    t.uuid "author_id", null: false
    t.text "body", null: false
    t.datetime "created_at", null: false
    t.datetime "updated_at", null: false
    t.index ["author_id"], name: "index_comments_on_author_id"
    t.index ["commentable_type", "commentable_id"], name: "index_comments_on_commentable"
  end

  create_table "posts", id: :uuid, default: -> { "gen_random_uuid()" }, force: :cascade do |t|
    t.uuid "author_id", null: false
    t.uuid "editor_id"
    t.string "title", limit: 200, null: false
    t.enum "status", default: "draft", null: false, enum_type: "post_status"
    t.string "tags", default: [], null: false, array: true
    t.jsonb "metadata", default: {}, null: false
    t.integer "word_count", default: 0, null: false
    t.decimal "rating", precision: 3, scale: 1
    t.datetime "published_at"
    t.datetime "created_at", null: false
    t.datetime "updated_at", null: false
    t.index ["author_id"], name: "index_posts_on_author_id"
    t.index ["editor_id"], name: "index_posts_on_editor_id"
    t.index ["published_at"], name: "index_posts_on_published_at", where: "(status = 'published'::post_status)"
    t.check_constraint "word_count >= 0", name: "word_count_not_negative"
  end

  create_table "taggings", force: :cascade do |t|
    t.uuid "post_id", null: false
    t.uuid "user_id", null: false
    t.datetime "created_at", null: false
    t.datetime "updated_at", null: false
    t.index ["post_id", "user_id"], name: "index_taggings_on_post_id_and_user_id", unique: true
  end

  create_table "users", id: :uuid, default: -> { "gen_random_uuid()" }, force: :cascade do |t|
    t.string "email", null: false
    t.string "name"
    t.boolean "admin", default: false, null: false
    t.jsonb "preferences"
    t.datetime "created_at", null: false
    t.datetime "updated_at", null: false
    t.index ["email"], name: "index_users_on_email", unique: true
  end

  add_foreign_key "comments", "users", column: "author_id"
  add_foreign_key "posts", "users", column: "editor_id", on_delete: :nullify
  add_foreign_key "posts", "users", column: "author_id", on_delete: :cascade
  add_foreign_key "taggings", "posts"
  add_foreign_key "taggings", "users"
end
