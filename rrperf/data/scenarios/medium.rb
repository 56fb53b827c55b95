# Built-in rrperf scenario "medium": a ten-table online shop.
# Written for rrperf in the layout of a Rails 8.0 PostgreSQL schema dump.
#
# This file is auto-generated from the current state of the database. Instead
# of editing this file, please use the migrations feature of Active Record to
# incrementally modify your database, and then regenerate this schema definition.
#
# It's strongly recommended that you check this file into your version control system.

ActiveRecord::Schema[8.0].define(version: 2025_06_02_174233) do
  # These are extensions that must be enabled in order to support this database
  enable_extension "pg_catalog.plpgsql"
  enable_extension "pgcrypto"

  # Custom types defined in this database.
  # Note that some types may not work with other database engines. Be careful if changing database.
  create_enum "order_state", ["cart", "placed", "paid", "shipped", "delivered", "cancelled", "refunded"]
  create_enum "payment_method", ["card", "bank_transfer", "wallet", "voucher"]

  create_table "addresses", force: :cascade do |t|
    t.bigint "customer_id", null: false
    t.string "label", default: "home", null: false
    t.string "line1", null: false
    t.string "line2"
    t.string "city", null: false
    t.string "postal_code", null: false
    t.string "country_code", limit: 2, null: false
    t.boolean "default_shipping", default: false, null: false
    t.datetime "created_at", null: false
    t.datetime "updated_at", null: false
    t.index ["customer_id"], name: "index_addresses_on_customer_id"
  end

  create_table "categories", force: :cascade do |t|
    t.bigint "parent_id"
    t.string "name", null: false
    t.string "slug", null: false
    t.integer "position", default: 0, null: false
    t.datetime "created_at", null: false
    t.datetime "updated_at", null: false
    t.index ["parent_id"], name: "index_categories_on_parent_id"
    t.index ["slug"], name: "index_categories_on_slug", unique: true
  end

  create_table "coupons", force: :cascade do |t|
    t.string "code", null: false
    t.decimal "percent_off", precision: 5, scale: 2
    t.decimal "amount_off", precision: 10, scale: 2
    t.integer "max_redemptions"
    t.integer "redemptions_count", default: 0, null: false
    t.date "valid_from"
    t.date "valid_until"
    t.datetime "created_at", null: false
    t.datetime "updated_at", null: false
    t.index ["code"], name: "index_coupons_on_code", unique: true
    t.check_constraint "percent_off IS NULL OR percent_off <= 100", name: "coupons_percent_off_max"
  end

  create_table "customers", force: :cascade do |t|
    t.string "email", null: false
    t.string "first_name"
    t.string "last_name"
    t.string "phone"
    t.boolean "marketing_opt_in", default: false, null: false
    t.jsonb "preferences", default: {}, null: false
    t.uuid "public_id", default: -> { "gen_random_uuid()" }, null: false
    t.datetime "confirmed_at"
    t.datetime "created_at", null: false
    t.datetime "updated_at", null: false
    t.index ["email"], name: "index_customers_on_email", unique: true
    t.index ["public_id"], name: "index_customers_on_public_id", unique: true
  end

  create_table "order_items", force: :cascade do |t|
    t.bigint "order_id", null: false
    t.bigint "product_id", null: false
    t.integer "quantity", default: 1, null: false
    t.decimal "unit_price", precision: 10, scale: 2, null: false
    t.decimal "tax_rate", precision: 5, scale: 4, default: "0.0", null: false
    t.datetime "created_at", null: false
    t.datetime "updated_at", null: false
    t.index ["order_id", "product_id"], name: "index_order_items_on_order_id_and_product_id", unique: true
    t.index ["product_id"], name: "index_order_items_on_product_id"
    t.check_constraint "quantity > 0", name: "order_items_quantity_positive"
  end

  create_table "orders", force: :cascade do |t|
    t.bigint "customer_id", null: false
    t.bigint "shipping_address_id"
    t.bigint "coupon_id"
    t.string "number", null: false
    t.enum "state", default: "cart", null: false, enum_type: "order_state"
    t.decimal "subtotal", precision: 12, scale: 2, default: "0.0", null: false
    t.decimal "discount_total", precision: 12, scale: 2, default: "0.0", null: false
    t.decimal "grand_total", precision: 12, scale: 2, default: "0.0", null: false
    t.string "currency", limit: 3, default: "EUR", null: false
    t.text "notes"
    t.datetime "placed_at"
    t.datetime "created_at", null: false
    t.datetime "updated_at", null: false
    t.index ["coupon_id"], name: "index_orders_on_coupon_id"
    t.index ["customer_id", "state"], name: "index_orders_on_customer_id_and_state"
    t.index ["number"], name: "index_orders_on_number", unique: true
    t.index ["shipping_address_id"], name: "index_orders_on_shipping_address_id"
  end

  create_table "payments", force: :cascade do |t|
    t.bigint "order_id", null: false
    t.enum "method", null: false, enum_type: "payment_method"
    t.decimal "amount", precision: 12, scale: 2, null: false
    t.string "provider_reference"
    t.json "provider_response"
    t.datetime "captured_at"
    t.datetime "created_at", null: false
    t.datetime "updated_at", null: false
    t.index ["order_id"], name: "index_payments_on_order_id", unique: true
    t.index ["provider_reference"], name: "index_payments_on_provider_reference", unique: true, where: "(provider_reference IS NOT NULL)"
  end

  create_table "product_categories", force: :cascade do |t|
    t.bigint "product_id", null: false
    t.bigint "category_id", null: false
    t.datetime "created_at", null: false
    t.datetime "updated_at", null: false
    t.index ["category_id"], name: "index_product_categories_on_category_id"
    t.index ["product_id", "category_id"], name: "index_product_categories_on_product_id_and_category_id", unique: true
  end

  create_table "products", force: :cascade do |t|
    t.string "sku", null: false
    t.string "name", null: false
    t.text "description"
    t.decimal "price", precision: 10, scale: 2, null: false
    t.decimal "weight_kg", precision: 8, scale: 3
    t.integer "stock", default: 0, null: false
    t.boolean "active", default: true, null: false
    t.string "image_urls", default: [], null: false, array: true
    t.jsonb "attributes_data", default: {}, null: false
    t.datetime "created_at", null: false
    t.datetime "updated_at", null: false
    t.index ["attributes_data"], name: "index_products_on_attributes_data", using: :gin
    t.index ["sku"], name: "index_products_on_sku", unique: true
  end

  create_table "reviews", force: :cascade do |t|
    t.bigint "product_id", null: false
    t.bigint "customer_id", null: false
    t.integer "rating", null: false
    t.string "title"
    t.text "body"
    t.boolean "verified_purchase", default: false, null: false
    t.datetime "created_at", null: false
    t.datetime "updated_at", null: false
    t.index ["customer_id"], name: "index_reviews_on_customer_id"
    t.index ["product_id", "customer_id"], name: "index_reviews_on_product_id_and_customer_id", unique: true
    t.check_constraint "rating >= 1 AND rating <= 5", name: "reviews_rating_range"
  end

  add_foreign_key "addresses", "customers", on_delete: :cascade
  add_foreign_key "categories", "categories", column: "parent_id"
  add_foreign_key "order_items", "orders", on_delete: :cascade
  add_foreign_key "order_items", "products"
  add_foreign_key "orders", "addresses", column: "shipping_address_id", on_delete: :nullify
  add_foreign_key "orders", "coupons"
  add_foreign_key "orders", "customers"
  add_foreign_key "payments", "orders"
  add_foreign_key "product_categories", "categories", on_delete: :cascade
  add_foreign_key "product_categories", "products", on_delete: :cascade
  add_foreign_key "reviews", "customers"
  add_foreign_key "reviews", "products", on_delete: :cascade
end
