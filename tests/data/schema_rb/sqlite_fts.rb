ActiveRecord::Schema[8.0].define(version: 2025_01_02_030405) do
  create_table "people", force: :cascade do |t|
    t.string "email", collation: "NOCASE"
    t.datetime "created_at", null: false
  end

  # Could not dump table "books" because of following StandardError
  #   Unknown type 'reference' for column 'author_id'

  add_foreign_key "memberships", "people"

  # Virtual tables defined in this database.
  # Note that virtual tables may not work with other database engines. Be careful if changing database.
  create_virtual_table "people_search", "fts5", ["email", "content=''", "contentless_delete=1"]
end
