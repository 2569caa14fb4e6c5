-- Proves the harness role is read-only. Run as harness:
--   psql -v ON_ERROR_STOP=1 -f db/roles/check-harness-role.sql
-- Raises on the first broken expectation; prints "check-harness-role: OK" when all hold.

DO $check$
DECLARE
    rol record;
BEGIN
    SELECT rolsuper, rolcreatedb, rolcreaterole, rolbypassrls, rolreplication INTO rol
    FROM pg_roles WHERE rolname = current_user;
    IF rol.rolsuper OR rol.rolcreatedb OR rol.rolcreaterole OR rol.rolbypassrls
       OR rol.rolreplication THEN
        RAISE EXCEPTION 'check-harness-role: % has a role attribute it must not have: %',
            current_user, rol;
    END IF;
    IF has_database_privilege(current_database(), 'CREATE')
       OR has_database_privilege(current_database(), 'TEMPORARY') THEN
        RAISE EXCEPTION 'check-harness-role: % may create schemas or temporary objects in %',
            current_user, current_database();
    END IF;
END
$check$;

-- Every write or DDL statement must fail with insufficient_privilege.
DO $check$
DECLARE
    stmt text;
    ran boolean;
BEGIN
    FOREACH stmt IN ARRAY ARRAY[
        'INSERT INTO nexo.servicio (id, codigo) VALUES (-1, ''SV-9999999'')',
        'UPDATE nexo.servicio SET notas = notas',
        'DELETE FROM nexo.servicio',
        'TRUNCATE nexo.servicio',
        'INSERT INTO nexo.evento (id, servicio_id, ocurrido_en, tipo) VALUES (-1, 1, now(), ''x'')',
        'UPDATE nexo.evento SET detalle = detalle',
        'DELETE FROM nexo.evento',
        'TRUNCATE nexo.evento',
        'UPDATE nexo.proc_inst SET estado = estado',
        'DELETE FROM nexo.pod',
        'INSERT INTO nexo.snapshot_refresh VALUES (''servicios'', now())',
        'UPDATE nexo.snapshot_refresh SET refreshed_at = now()',
        'DELETE FROM nexo.snapshot_refresh',
        'TRUNCATE nexo.snap_servicio',
        'UPDATE nexo.snap_servicio SET notas = notas',
        'DELETE FROM nexo.snap_pod',
        'UPDATE nexo.parametro SET valor = valor',
        'INSERT INTO nexo.region (nombre, codigo) VALUES (''X'', ''X'')',
        'UPDATE nexo.transportista SET capacidad_diaria = capacidad_diaria',
        'CREATE TABLE nexo.intruso (x integer)',
        'CREATE TABLE story.intruso (x integer)',
        'CREATE TABLE public.intruso (x integer)',
        'CREATE TEMP TABLE intruso (x integer)',
        'CREATE SCHEMA intruso',
        'CREATE VIEW nexo.intruso AS SELECT 1 AS x',
        'CREATE SEQUENCE nexo.intruso',
        'CREATE FUNCTION nexo.intruso() RETURNS integer LANGUAGE sql AS ''SELECT 1''',
        'CREATE FUNCTION public.intruso() RETURNS integer LANGUAGE sql AS ''SELECT 1''',
        'CREATE INDEX intruso ON nexo.servicio (notas)',
        'ALTER TABLE nexo.servicio ADD COLUMN intruso integer',
        'DROP TABLE nexo.servicio',
        'DROP FUNCTION nexo.fn_dx_catalogo()',
        'CREATE ROLE intruso',
        'SELECT nexo.fn_refresh_servicios()',
        'SELECT nexo.fn_refresh_pod()',
        'SELECT nexo.fn_refresh_all()',
        'SELECT nexo.fn_dx_orchestrator()',
        'SELECT nexo.fn_dx_orchestrator_auto()',
        'SELECT nexo.fn_dx_recalcular_eta(''SV-0000001'', now())'
    ] LOOP
        ran := false;
        BEGIN
            EXECUTE stmt;
            ran := true;
        EXCEPTION WHEN insufficient_privilege THEN
            ran := false;
        END;
        IF ran THEN
            RAISE EXCEPTION 'check-harness-role: % could run: %', current_user, stmt;
        END IF;
    END LOOP;
END
$check$;

-- The boot ACL check's "direct leak" query: no fn_refresh_* may be executable.
DO $check$
DECLARE
    leaks bigint;
BEGIN
    SELECT count(*) INTO leaks FROM pg_proc p
    WHERE starts_with(p.proname, 'fn_refresh_') AND has_function_privilege(p.oid, 'EXECUTE');
    IF leaks <> 0 THEN
        RAISE EXCEPTION 'check-harness-role: fn_refresh_direct_leak = % (must be 0)', leaks;
    END IF;
END
$check$;

-- Exactly the allowed fn_dx_* functions are executable, and each can be called.
DO $check$
DECLARE
    allowed text[] := ARRAY['fn_dx_auditoria_pod', 'fn_dx_catalogo', 'fn_dx_centro_control',
        'fn_dx_cola_critica', 'fn_dx_conteo_servicios', 'fn_dx_dimensionamiento',
        'fn_dx_eta_distribucion', 'fn_dx_rendimiento_transportista', 'fn_dx_servicio_detalle',
        'fn_dx_torre_control'];
    executable text[];
BEGIN
    SELECT array_agg(p.proname::text ORDER BY p.proname::text) INTO executable
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'nexo' AND starts_with(p.proname, 'fn_dx_')
      AND has_function_privilege(p.oid, 'EXECUTE');
    IF executable IS DISTINCT FROM allowed THEN
        RAISE EXCEPTION 'check-harness-role: executable fn_dx_* are %, expected %',
            executable, allowed;
    END IF;
    PERFORM nexo.fn_dx_centro_control();
    PERFORM * FROM nexo.fn_dx_cola_critica(p_limit => 1);
    PERFORM * FROM nexo.fn_dx_dimensionamiento(p_limit => 1);
    PERFORM * FROM nexo.fn_dx_torre_control(p_limit => 1);
    PERFORM * FROM nexo.fn_dx_auditoria_pod(p_limit => 1);
    PERFORM * FROM nexo.fn_dx_eta_distribucion();
    PERFORM * FROM nexo.fn_dx_rendimiento_transportista();
    PERFORM nexo.fn_dx_conteo_servicios();
    PERFORM nexo.fn_dx_servicio_detalle('SV-0000001');
    PERFORM nexo.fn_dx_catalogo();
    PERFORM * FROM nexo.fn_snapshot_stamps();
    PERFORM * FROM story.fn_delivery_metrics(NULL, NULL);
    PERFORM * FROM story.fn_workflow_events(p_limit => 1);
END
$check$;

\echo check-harness-role: OK
