# encoding: UTF-8
# Rails 3 style dump with hash rockets, MySQL options and top-level add_index.

ActiveRecord::Schema.define(:version => 20120809201855) do

  create_table "comments", :primary_key => "cid", :options=>'ENGINE=MyISAM', :force => true do |t|
    t.string   "color",                :limit => 6,  :default => "AB9364", :null => false
    t.integer  "shareable_id",   limit: 4,                    null: false
    t.string   "shareable_type", :limit => 60
    t.text     "body",           :limit => 2147483647
    t.integer  "flags",          :limit => 1, :default => -1
    t.float    "score",          :default => 0.0
  end

  add_index "comments", ["shareable_id", "shareable_type"], :name => "index_comments_on_shareable", :unique => true, :length => {"shareable_id"=>nil, "shareable_type"=>189}
  add_index "comments", ["color"], name: "index_comments_on_color", using: :btree

  create_table "products", id: :integer, charset: "utf8mb4", collation: "utf8mb4_unicode_ci", force: :cascade do |t|
    t.text "notes", size: :medium, charset: "latin1"
    t.string "slug", collation: "utf8mb4_bin"
    t.index "(ifnull(`parent_id`,0)), `slug`", name: "index_products_on_parent_id_and_slug", unique: true
    t.index ["notes"], name: "index_products_on_notes", type: :fulltext
  end

  create_table "filters_tags", id: false, charset: "utf8mb4", collation: "utf8mb4_0900_ai_ci", force: :cascade do |t|
    t.bigint "filter_id", null: false
    t.bigint "tag_id", null: false
  end

end
