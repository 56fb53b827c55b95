/**
 * Type declarations of the small runtime library the generated models import.
 *
 * Shipped with the rrperf generator so that generated code type-checks on its own: include
 * this file in the TypeScript program (tsconfig "files"/"include") next to the generated
 * folder. An application provides the implementation under the module name 'rrperf-runtime'
 * (for example with a path alias).
 */
declare module 'rrperf-runtime' {
  /** A JSON object; an alias so that a model named `Record` never shadows what it needs. */
  export type JsonObject = { [key: string]: unknown };

  /** A primary key value. */
  export type RecordId = string | number;

  /** Static configuration of one model. */
  export interface ModelConfig<T extends object> {
    readonly tableName: string;
    readonly className: string;
    readonly primaryKey: string | readonly string[] | null;
    readonly supportsDiscard: boolean;
    readonly defaults: { readonly [K in keyof T]?: T[K] };
  }

  /** A loaded row with its persistence methods. */
  export abstract class BaseRecord<T extends object> {
    protected constructor(config: ModelConfig<T>, data: T);
    readonly config: ModelConfig<T>;
    readonly data: T;
    save(): Promise<void>;
    destroy(): Promise<void>;
    reload(): Promise<void>;
  }

  /** A chainable query. */
  export interface ScopedQuery<T extends object> {
    where(conditions: { readonly [K in keyof T]?: T[K] }): ScopedQuery<T>;
    orderBy(column: keyof T & string, direction?: 'asc' | 'desc'): ScopedQuery<T>;
    limit(count: number): ScopedQuery<T>;
    includes(...relationships: string[]): ScopedQuery<T>;
    all(): Promise<T[]>;
    first(): Promise<T | null>;
  }

  /** The promise-based model object `createActiveRecord` returns. */
  export interface ActiveRecordModel<T extends object, C extends object, U extends object> {
    readonly config: ModelConfig<T>;
    find(id: RecordId): Promise<T>;
    findBy(conditions: { readonly [K in keyof T]?: T[K] }): Promise<T | null>;
    where(conditions: { readonly [K in keyof T]?: T[K] }): ScopedQuery<T>;
    all(): ScopedQuery<T>;
    kept(): ScopedQuery<T>;
    create(data: C): Promise<T>;
    update(id: RecordId, data: U): Promise<T>;
    destroy(id: RecordId): Promise<void>;
    discard(id: RecordId): Promise<void>;
    undiscard(id: RecordId): Promise<void>;
  }

  /** A live query whose `current` value follows the data. */
  export interface ReactiveQuery<R> {
    readonly current: R;
    readonly isLoading: boolean;
    readonly error: Error | null;
    subscribe(listener: (value: R) => void): () => void;
    destroy(): void;
  }

  /** The read-only reactive model object `createReactiveRecord` returns. */
  export interface ReactiveRecordModel<T extends object> {
    readonly config: ModelConfig<T>;
    find(id: RecordId): ReactiveQuery<T | null>;
    findBy(conditions: { readonly [K in keyof T]?: T[K] }): ReactiveQuery<T | null>;
    where(conditions: { readonly [K in keyof T]?: T[K] }): ReactiveQuery<T[]>;
    all(): ReactiveQuery<T[]>;
    kept(): ReactiveQuery<T[]>;
  }

  export function createActiveRecord<
    T extends object,
    C extends object = { [K in keyof T]?: T[K] },
    U extends object = { [K in keyof T]?: T[K] },
  >(config: ModelConfig<T>): ActiveRecordModel<T, C, U>;

  export function createReactiveRecord<T extends object>(
    config: ModelConfig<T>,
  ): ReactiveRecordModel<T>;

  /** One association, as `registerModelRelationships` takes it. */
  export interface RelationshipConfig {
    readonly type: 'belongsTo' | 'hasMany' | 'hasOne';
    readonly model: string;
    readonly foreignKey?: string;
    readonly through?: string;
    readonly source?: string;
    readonly as?: string;
  }

  export function registerModelRelationships(
    tableName: string,
    relationships: { readonly [name: string]: RelationshipConfig },
  ): void;

  /** One polymorphic association: the type column, the id column and the allowed types. */
  export interface PolymorphicFieldConfig {
    readonly typeField: string;
    readonly idField: string;
    readonly allowedTypes: readonly string[];
  }

  export interface PolymorphicConfig {
    readonly tableName: string;
    readonly belongsTo?: { readonly [name: string]: PolymorphicFieldConfig };
    readonly hasMany?: { readonly [name: string]: PolymorphicFieldConfig };
  }

  export function declarePolymorphicRelationships(config: PolymorphicConfig): void;
}
