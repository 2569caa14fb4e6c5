-- A test-only schema with one function per signature kind the introspection must handle.
CREATE SCHEMA zoo;
CREATE TYPE zoo.color AS ENUM ('rojo', 'verde', 'azul');
CREATE DOMAIN zoo.codigo AS text CHECK (VALUE ~ '^SV-[0-9]{7}$');
CREATE DOMAIN zoo.positivo AS integer CHECK (VALUE > 0);
CREATE TYPE zoo.par AS (a integer, b text);

CREATE TABLE zoo.snapshot (refreshed_at_servicios timestamptz NOT NULL);
INSERT INTO zoo.snapshot VALUES (now() - interval '2 minutes');
CREATE TABLE zoo.item (id integer PRIMARY KEY, nombre text, creado date, precio numeric);
INSERT INTO zoo.item
SELECT i, 'item ' || i, date '2026-11-01' + i, i * 1.5 FROM generate_series(1, 12) AS i;
CREATE TABLE zoo.marca (id serial PRIMARY KEY, valor text);

CREATE FUNCTION zoo.fn_dx_centro_control() RETURNS json LANGUAGE sql STABLE AS $$
  SELECT json_build_object('n_items', (SELECT count(*) FROM zoo.item),
                           'refreshed_at_servicios', (SELECT refreshed_at_servicios FROM zoo.snapshot))
$$;
COMMENT ON FUNCTION zoo.fn_dx_centro_control() IS '@meta
domain: centro_control
layer: L2
returns: json
side_effects: none
keywords: resumen, kpi
@end
Resumen de KPIs.';

CREATE FUNCTION zoo.fn_dx_probe_viejo() RETURNS json LANGUAGE sql STABLE AS $$
  SELECT json_build_object('refreshed_at_servicios', now() - interval '3 hours')
$$;
COMMENT ON FUNCTION zoo.fn_dx_probe_viejo() IS 'Sonda con un snapshot de hace tres horas.';

CREATE FUNCTION zoo.fn_dx_conteo() RETURNS bigint LANGUAGE sql STABLE AS
  $$ SELECT count(*) FROM zoo.item $$;
COMMENT ON FUNCTION zoo.fn_dx_conteo() IS 'L1: Conteo de items.';

CREATE FUNCTION zoo.fn_dx_int_in(p_n integer) RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT p_n * 2 $$;
CREATE FUNCTION zoo.fn_dx_smallint_in(p_n smallint) RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT p_n + 1 $$;
CREATE FUNCTION zoo.fn_dx_bigint_in(p_n bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$ SELECT p_n + 1 $$;
CREATE FUNCTION zoo.fn_dx_numeric_in(p_x numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$ SELECT p_x * 2 $$;
CREATE FUNCTION zoo.fn_dx_float_in(p_x double precision, p_y real) RETURNS double precision
  LANGUAGE sql IMMUTABLE AS $$ SELECT p_x + p_y $$;
CREATE FUNCTION zoo.fn_dx_bool_in(p_b boolean) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT NOT p_b $$;
CREATE FUNCTION zoo.fn_dx_text_in(p_t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT p_t $$;
CREATE FUNCTION zoo.fn_dx_varchar_in(p_t varchar) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT upper(p_t) $$;
CREATE FUNCTION zoo.fn_dx_date_in(p_d date) RETURNS date LANGUAGE sql IMMUTABLE AS $$ SELECT p_d + 1 $$;
CREATE FUNCTION zoo.fn_dx_timestamptz_in(p_t timestamptz) RETURNS timestamptz
  LANGUAGE sql IMMUTABLE AS $$ SELECT p_t + interval '1 hour' $$;
CREATE FUNCTION zoo.fn_dx_timestamp_in(p_t timestamp) RETURNS timestamp
  LANGUAGE sql IMMUTABLE AS $$ SELECT p_t $$;
CREATE FUNCTION zoo.fn_dx_uuid_in(p_u uuid) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT p_u::text $$;
CREATE FUNCTION zoo.fn_dx_time_interval(p_t time, p_i interval) RETURNS text
  LANGUAGE sql IMMUTABLE AS $$ SELECT (p_t + p_i)::text $$;
CREATE FUNCTION zoo.fn_dx_int_array(p_ids integer[]) RETURNS bigint
  LANGUAGE sql IMMUTABLE AS $$ SELECT sum(x) FROM unnest(p_ids) AS x $$;
CREATE FUNCTION zoo.fn_dx_text_array(p_tags text[]) RETURNS text
  LANGUAGE sql IMMUTABLE AS $$ SELECT array_to_string(p_tags, '+') $$;
CREATE FUNCTION zoo.fn_dx_enum_in(p_color zoo.color) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT p_color::text $$;
CREATE FUNCTION zoo.fn_dx_enum_array(p_colores zoo.color[]) RETURNS integer
  LANGUAGE sql IMMUTABLE AS $$ SELECT cardinality(p_colores) $$;
CREATE FUNCTION zoo.fn_dx_domain_text(p_codigo zoo.codigo) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT p_codigo $$;
CREATE FUNCTION zoo.fn_dx_domain_int(p_n zoo.positivo) RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT p_n $$;
CREATE FUNCTION zoo.fn_dx_enum_meta(p_modo text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT p_modo $$;
COMMENT ON FUNCTION zoo.fn_dx_enum_meta(text) IS '@meta
domain: pruebas
layer: L3
returns: text
side_effects: none
enum.p_modo: rapido|lento
@end
Modo elegido.';

CREATE FUNCTION zoo.fn_dx_defaults(
  p_a integer DEFAULT 5, p_b text DEFAULT 'hola, mundo', p_c date DEFAULT NULL,
  p_d boolean DEFAULT true, p_e date DEFAULT current_date
) RETURNS json LANGUAGE sql STABLE AS $$
  SELECT json_build_object('a', p_a, 'b', p_b, 'c', p_c, 'd', p_d, 'e_es_hoy', p_e = current_date)
$$;

CREATE FUNCTION zoo.fn_dx_out_params(p_n integer, OUT doble integer, OUT triple integer)
  LANGUAGE sql IMMUTABLE AS $$ SELECT p_n * 2, p_n * 3 $$;
CREATE FUNCTION zoo.fn_dx_inout(INOUT p_n integer, OUT p_m integer)
  LANGUAGE sql IMMUTABLE AS $$ SELECT p_n + 1, p_n + 2 $$;
CREATE FUNCTION zoo.fn_dx_variadic_sum(VARIADIC p_vals integer[]) RETURNS integer
  LANGUAGE sql IMMUTABLE AS $$ SELECT sum(x)::integer FROM unnest(p_vals) AS x $$;
CREATE FUNCTION zoo.fn_dx_variadic_text(p_sep text, VARIADIC p_parts text[]) RETURNS text
  LANGUAGE sql IMMUTABLE AS $$ SELECT array_to_string(p_parts, p_sep) $$;

CREATE FUNCTION zoo.fn_dx_tabla(p_desde date DEFAULT NULL, p_limit integer DEFAULT 50, p_offset integer DEFAULT 0)
RETURNS TABLE (id integer, nombre text, creado date, precio numeric, total_count bigint,
               refreshed_at_servicios timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT i.id, i.nombre, i.creado, i.precio, count(*) OVER (), s.refreshed_at_servicios
  FROM zoo.item i CROSS JOIN zoo.snapshot s
  WHERE p_desde IS NULL OR i.creado >= p_desde
  ORDER BY i.id LIMIT p_limit OFFSET p_offset
$$;
COMMENT ON FUNCTION zoo.fn_dx_tabla(date, integer, integer) IS 'L2: Items por fecha.';

CREATE FUNCTION zoo.fn_dx_setof_tabla() RETURNS SETOF zoo.item LANGUAGE sql STABLE AS $$ SELECT * FROM zoo.item ORDER BY id $$;
CREATE FUNCTION zoo.fn_dx_setof_tipo() RETURNS SETOF zoo.par LANGUAGE sql IMMUTABLE AS $$ VALUES (1, 'uno'), (2, 'dos') $$;
CREATE FUNCTION zoo.fn_dx_setof_escalar() RETURNS SETOF integer LANGUAGE sql IMMUTABLE AS $$ SELECT generate_series(1, 3) $$;
CREATE FUNCTION zoo.fn_dx_setof_json() RETURNS SETOF json LANGUAGE sql IMMUTABLE AS $$ SELECT json_build_object('k', 1) $$;
CREATE FUNCTION zoo.fn_dx_composite_out() RETURNS zoo.par LANGUAGE sql IMMUTABLE AS $$ SELECT ROW(7, 'siete')::zoo.par $$;
CREATE FUNCTION zoo.fn_dx_json_out() RETURNS json LANGUAGE sql IMMUTABLE AS $$ SELECT '{"a": [1, 2]}'::json $$;
CREATE FUNCTION zoo.fn_dx_jsonb_out() RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('x', 1, 'refreshed_at_pod', now() - interval '9 minutes',
                            'refreshed_at_servicios', now() - interval '4 minutes')
$$;
CREATE FUNCTION zoo.fn_dx_jsonb_in(p_filtro jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$ SELECT p_filtro $$;

CREATE FUNCTION zoo.fn_dx_sobrecarga(p_x integer) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'integer' $$;
CREATE FUNCTION zoo.fn_dx_sobrecarga(p_x text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'text' $$;
CREATE FUNCTION zoo.fn_dx_sobrecarga() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'noargs' $$;
CREATE FUNCTION zoo.fn_dx_mitad_privada(p_x integer) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'integer' $$;
CREATE FUNCTION zoo.fn_dx_mitad_privada(p_x text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'text' $$;
CREATE FUNCTION zoo.fn_dx_nombre_muy_largo_para_una_herramienta_con_muchos_caracteres_x(p_x integer)
  RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT p_x $$;

CREATE FUNCTION zoo.fn_dx_filtros(
  p_fecha_desde date DEFAULT NULL, p_fecha_hasta date DEFAULT NULL, p_fecha_tipo text DEFAULT 'compromiso',
  p_cliente text DEFAULT NULL, p_canal text DEFAULT NULL, p_tipo_servicio text DEFAULT NULL,
  p_region text DEFAULT NULL, p_comuna text DEFAULT NULL, p_centro text DEFAULT NULL,
  p_transportista text DEFAULT NULL, p_conductor text DEFAULT NULL, p_patente text DEFAULT NULL,
  p_estado text DEFAULT NULL, p_eta_clasificacion text DEFAULT NULL, p_es_critico boolean DEFAULT NULL,
  p_prioridad text DEFAULT NULL, p_limit integer DEFAULT 50, p_offset integer DEFAULT 0
) RETURNS TABLE (filtro text, valor text, total_count bigint, refreshed_at_servicios timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT f.k, f.v, count(*) OVER (), (SELECT s.refreshed_at_servicios FROM zoo.snapshot s)
  FROM (VALUES ('fecha_tipo', p_fecha_tipo), ('region', p_region), ('cliente', p_cliente),
               ('comuna', p_comuna), ('fecha_desde', p_fecha_desde::text)) AS f(k, v)
  WHERE f.v IS NOT NULL
  ORDER BY f.k LIMIT p_limit OFFSET p_offset
$$;
COMMENT ON FUNCTION zoo.fn_dx_filtros(date, date, text, text, text, text, text, text, text, text, text,
  text, text, text, boolean, text, integer, integer) IS '@meta
domain: pruebas
layer: L2
returns: table
side_effects: none
keywords: filtros, eco
enum.p_canal: ecommerce|retail|marketplace
@end
Devuelve los filtros recibidos.';

-- Signatures the harness cannot express: each must be skipped with a warning.
CREATE FUNCTION zoo.fn_dx_unmappable_point(p_p point) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT p_p::text $$;
CREATE FUNCTION zoo.fn_dx_unmappable_bytea() RETURNS bytea LANGUAGE sql IMMUTABLE AS $$ SELECT '\x00'::bytea $$;
CREATE FUNCTION zoo.fn_dx_unmappable_record() RETURNS SETOF record LANGUAGE sql IMMUTABLE AS $$ SELECT 1, 2 $$;
CREATE FUNCTION zoo.fn_dx_unmappable_any(p_x anyelement) RETURNS anyelement LANGUAGE sql IMMUTABLE AS $$ SELECT p_x $$;
CREATE FUNCTION zoo.fn_dx_unmappable_sin_nombre(integer) RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT $1 $$;
CREATE FUNCTION zoo.fn_dx_unmappable_void() RETURNS void LANGUAGE sql IMMUTABLE AS $$ SELECT $$;
CREATE FUNCTION zoo.fn_dx_unmappable_composite_in(p_par zoo.par) RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT (p_par).a $$;
CREATE FUNCTION zoo.fn_dx_unmappable_columna(p_n integer) RETURNS TABLE (punto point)
  LANGUAGE sql IMMUTABLE AS $$ SELECT point(p_n, p_n) $$;

-- The read-only layer: writes but its comment does not deny it.
CREATE FUNCTION zoo.fn_dx_escribe_marca(p_valor text) RETURNS integer LANGUAGE sql VOLATILE AS $$
  INSERT INTO zoo.marca (valor) VALUES (p_valor) RETURNING id
$$;
COMMENT ON FUNCTION zoo.fn_dx_escribe_marca(text) IS 'Registra una marca (escribe, sin side_effects declarado).';

CREATE FUNCTION zoo.fn_dx_lento(p_segundos double precision) RETURNS integer LANGUAGE sql VOLATILE AS
  $$ SELECT 1 FROM pg_sleep(p_segundos) $$;
CREATE FUNCTION zoo.fn_dx_falla() RETURNS integer LANGUAGE plpgsql STABLE AS
  $$ BEGIN RAISE EXCEPTION 'falla a propósito'; END $$;
CREATE FUNCTION zoo.fn_dx_privado() RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT 1 $$;
CREATE PROCEDURE zoo.fn_dx_procedimiento() LANGUAGE sql AS $$ SELECT 1 $$;
CREATE FUNCTION zoo.helper_interno() RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT 1 $$;

-- The denylist.
CREATE FUNCTION zoo.fn_refresh_items() RETURNS void LANGUAGE sql VOLATILE AS
  $$ UPDATE zoo.snapshot SET refreshed_at_servicios = now() $$;
CREATE FUNCTION zoo.fn_dx_orchestrator() RETURNS void LANGUAGE sql VOLATILE AS $$ SELECT zoo.fn_refresh_items() $$;
CREATE FUNCTION zoo.fn_dx_orchestrator_auto() RETURNS void LANGUAGE sql VOLATILE AS $$ SELECT zoo.fn_refresh_items() $$;
CREATE FUNCTION zoo.fn_dx_recalcular(p_id integer) RETURNS integer LANGUAGE sql VOLATILE AS
  $$ UPDATE zoo.item SET precio = precio + 1 WHERE id = p_id RETURNING id $$;
COMMENT ON FUNCTION zoo.fn_dx_recalcular(integer) IS '@meta
domain: pruebas
layer: L2
returns: integer
side_effects: writes_to_item
@end
Recalcula un precio.';

-- A reader role like `harness`: EXECUTE only on what it should call.
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA zoo FROM PUBLIC;
REVOKE EXECUTE ON ALL PROCEDURES IN SCHEMA zoo FROM PUBLIC;
GRANT USAGE ON SCHEMA zoo TO nexo_zoo_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA zoo TO nexo_zoo_reader;
DO $$
DECLARE f regprocedure;
BEGIN
  FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
           WHERE p.pronamespace = 'zoo'::regnamespace AND p.prokind = 'f'
             AND p.proname LIKE 'fn\_dx\_%'
             AND p.proname NOT IN ('fn_dx_privado', 'fn_dx_orchestrator', 'fn_dx_orchestrator_auto',
                                   'fn_dx_recalcular')
  LOOP
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO nexo_zoo_reader', f);
  END LOOP;
END $$;
REVOKE EXECUTE ON FUNCTION zoo.fn_dx_mitad_privada(text) FROM nexo_zoo_reader;
