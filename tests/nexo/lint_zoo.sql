-- One function per lint problem, plus clean ones that must pass.
CREATE SCHEMA lintzoo;
CREATE FUNCTION lintzoo.fn_dx_limpia() RETURNS integer LANGUAGE sql STABLE AS $$ SELECT 1 $$;
COMMENT ON FUNCTION lintzoo.fn_dx_limpia() IS '@meta
domain: pruebas
layer: L1
returns: integer
side_effects: none
@end
Limpia.';
CREATE FUNCTION lintzoo.fn_dx_sin_fin() RETURNS integer LANGUAGE sql STABLE AS $$ SELECT 1 $$;
COMMENT ON FUNCTION lintzoo.fn_dx_sin_fin() IS '@meta
side_effects: none
Nunca termina.';
CREATE FUNCTION lintzoo.fn_dx_clave_rara() RETURNS integer LANGUAGE sql STABLE AS $$ SELECT 1 $$;
COMMENT ON FUNCTION lintzoo.fn_dx_clave_rara() IS '@meta
side_effects: none
colour: azul
@end
Clave rara.';
CREATE FUNCTION lintzoo.fn_dx_sin_efectos() RETURNS integer LANGUAGE sql STABLE AS $$ SELECT 1 $$;
COMMENT ON FUNCTION lintzoo.fn_dx_sin_efectos() IS '@meta
domain: pruebas
@end
Sin side_effects.';
CREATE FUNCTION lintzoo.fn_dx_enum_fantasma(p_a text) RETURNS text LANGUAGE sql STABLE AS $$ SELECT p_a $$;
COMMENT ON FUNCTION lintzoo.fn_dx_enum_fantasma(text) IS '@meta
side_effects: none
enum.p_a: x|y
enum.p_b: x|y
@end
Enum de un parámetro que no existe.';
CREATE FUNCTION lintzoo.fn_dx_volatil() RETURNS integer LANGUAGE sql VOLATILE AS $$ SELECT 1 $$;
COMMENT ON FUNCTION lintzoo.fn_dx_volatil() IS 'L2: Volátil sin negar.';
CREATE FUNCTION lintzoo.fn_dx_sin_comentario() RETURNS integer LANGUAGE sql STABLE AS $$ SELECT 1 $$;
CREATE FUNCTION lintzoo.fn_dx_definer() RETURNS integer LANGUAGE sql STABLE SECURITY DEFINER AS $$ SELECT 1 $$;
COMMENT ON FUNCTION lintzoo.fn_dx_definer() IS 'Definer sin search_path.';
CREATE FUNCTION lintzoo.fn_dx_definer_ok() RETURNS integer LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = lintzoo, pg_temp AS $$ SELECT 1 $$;
COMMENT ON FUNCTION lintzoo.fn_dx_definer_ok() IS 'Definer con search_path.';
CREATE FUNCTION lintzoo.fn_dx_concatena(p_tabla text) RETURNS bigint LANGUAGE plpgsql STABLE AS $$
DECLARE n bigint;
BEGIN
  -- EXECUTE format('%I', p_tabla) would be safe; this is not:
  EXECUTE 'SELECT count(*) FROM ' || p_tabla INTO n;
  RETURN n;
END $$;
COMMENT ON FUNCTION lintzoo.fn_dx_concatena(text) IS 'Cuenta filas de una tabla.';
CREATE FUNCTION lintzoo.fn_dx_format(p_tabla text) RETURNS bigint LANGUAGE plpgsql STABLE AS $$
DECLARE n bigint;
BEGIN
  EXECUTE format('SELECT count(*) FROM %I', p_tabla) INTO n;  -- 'a' || 'b' in a comment is fine
  RETURN n;
END $$;
COMMENT ON FUNCTION lintzoo.fn_dx_format(text) IS 'Cuenta filas con format().';
CREATE FUNCTION lintzoo.fn_dx_punto(p_p point) RETURNS text LANGUAGE sql STABLE AS $$ SELECT p_p::text $$;
COMMENT ON FUNCTION lintzoo.fn_dx_punto(point) IS 'Punto.';
CREATE FUNCTION lintzoo.fn_refresh_x() RETURNS void LANGUAGE sql VOLATILE AS $$ SELECT $$;
CREATE FUNCTION lintzoo.fn_dx_recalcula() RETURNS void LANGUAGE sql VOLATILE AS $$ SELECT $$;
COMMENT ON FUNCTION lintzoo.fn_dx_recalcula() IS '@meta
side_effects: writes_to_servicio
@end
Recalcula.';
CREATE FUNCTION lintzoo.helper() RETURNS integer LANGUAGE sql VOLATILE AS $$ SELECT 1 $$;
