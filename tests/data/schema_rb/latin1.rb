ActiveRecord::Schema[8.0].define(version: 1) do
  create_table "x" do |t|
    t.string "café"
  end
end
