-- Snapshot tables the fn_dx_* functions read, and the owner-only jobs that rebuild them.

-- One row per snapshot with the time it was last rebuilt.
CREATE TABLE nexo.snapshot_refresh (
    snapshot text PRIMARY KEY CHECK (snapshot IN ('servicios', 'pod')),
    refreshed_at timestamptz NOT NULL
);

-- Servicios with local calendar days precomputed in the database's configured zone.
CREATE TABLE nexo.snap_servicio (
    id bigint PRIMARY KEY,
    codigo text NOT NULL,
    cliente text NOT NULL,
    canal text NOT NULL,
    tipo_servicio text NOT NULL,
    prioridad text NOT NULL,
    region text NOT NULL,
    comuna text NOT NULL,
    centro text NOT NULL,
    transportista text NOT NULL,
    conductor text,
    patente text,
    estado text NOT NULL,
    fecha_creacion timestamptz NOT NULL,
    fecha_compromiso timestamptz NOT NULL,
    fecha_entrega timestamptz,
    eta timestamptz,
    eta_clasificacion text NOT NULL,
    es_critico boolean NOT NULL,
    motivo_critico text,
    intentos smallint NOT NULL,
    notas text,
    dia_creacion date NOT NULL,
    dia_compromiso date NOT NULL,
    dia_entrega date,
    dia_eta date,
    entregado_a_tiempo boolean NOT NULL
);
CREATE UNIQUE INDEX snap_servicio_codigo_idx ON nexo.snap_servicio (codigo);
CREATE INDEX snap_servicio_compromiso_idx ON nexo.snap_servicio (dia_compromiso);
CREATE INDEX snap_servicio_critico_idx ON nexo.snap_servicio (dia_compromiso) WHERE es_critico;

-- POD of each delivered servicio with its main problem (NULL when the POD is fine).
CREATE TABLE nexo.snap_pod (
    servicio_id bigint PRIMARY KEY,
    pod_estado text NOT NULL,
    foto boolean NOT NULL,
    firma boolean NOT NULL,
    geo boolean NOT NULL,
    distancia_m integer,
    registrado_en timestamptz,
    problema text
);

CREATE FUNCTION nexo.fn_refresh_servicios() RETURNS timestamptz
LANGUAGE plpgsql VOLATILE
SET search_path = nexo, pg_catalog, pg_temp
AS $$
DECLARE
    zona text := (SELECT valor FROM nexo.parametro WHERE clave = 'timezone');
    ahora timestamptz := clock_timestamp();
BEGIN
    TRUNCATE nexo.snap_servicio;
    INSERT INTO nexo.snap_servicio
    SELECT s.id, s.codigo, s.cliente, s.canal, s.tipo_servicio, s.prioridad, s.region, s.comuna,
           s.centro, s.transportista, s.conductor, s.patente, s.estado, s.fecha_creacion,
           s.fecha_compromiso, s.fecha_entrega, s.eta, s.eta_clasificacion, s.es_critico,
           s.motivo_critico, s.intentos, s.notas,
           (s.fecha_creacion AT TIME ZONE zona)::date,
           (s.fecha_compromiso AT TIME ZONE zona)::date,
           (s.fecha_entrega AT TIME ZONE zona)::date,
           (s.eta AT TIME ZONE zona)::date,
           s.estado = 'entregado' AND s.fecha_entrega <= s.fecha_compromiso
    FROM nexo.servicio s;
    ANALYZE nexo.snap_servicio;
    INSERT INTO nexo.snapshot_refresh (snapshot, refreshed_at) VALUES ('servicios', ahora)
    ON CONFLICT (snapshot) DO UPDATE SET refreshed_at = EXCLUDED.refreshed_at;
    RETURN ahora;
END;
$$;
COMMENT ON FUNCTION nexo.fn_refresh_servicios() IS
'Reconstruye el snapshot de servicios (job del dueño; nunca una herramienta).';

CREATE FUNCTION nexo.fn_refresh_pod() RETURNS timestamptz
LANGUAGE plpgsql VOLATILE
SET search_path = nexo, pg_catalog, pg_temp
AS $$
DECLARE
    ahora timestamptz := clock_timestamp();
BEGIN
    TRUNCATE nexo.snap_pod;
    INSERT INTO nexo.snap_pod
    SELECT p.servicio_id, p.estado, p.foto, p.firma, p.geo, p.distancia_m, p.registrado_en,
           CASE
               WHEN p.estado = 'faltante' THEN 'pod_faltante'
               WHEN p.estado = 'rechazado' THEN 'pod_rechazado'
               WHEN p.estado = 'pendiente_revision' THEN 'pendiente_revision'
               WHEN NOT p.foto THEN 'sin_foto'
               WHEN NOT p.firma THEN 'sin_firma'
               WHEN NOT p.geo THEN 'sin_geo'
               WHEN p.distancia_m > 300 THEN 'distancia_excesiva'
           END
    FROM nexo.pod p;
    ANALYZE nexo.snap_pod;
    INSERT INTO nexo.snapshot_refresh (snapshot, refreshed_at) VALUES ('pod', ahora)
    ON CONFLICT (snapshot) DO UPDATE SET refreshed_at = EXCLUDED.refreshed_at;
    RETURN ahora;
END;
$$;
COMMENT ON FUNCTION nexo.fn_refresh_pod() IS
'Reconstruye el snapshot de POD (job del dueño; nunca una herramienta).';

-- Stamp-only: what a result without its own refreshed_at_* is judged by. Not named fn_dx_*,
-- so it never becomes a tool; one indexed row instead of a KPI query.
CREATE FUNCTION nexo.fn_snapshot_stamps()
RETURNS TABLE (refreshed_at_servicios timestamptz)
LANGUAGE sql STABLE
SET search_path = nexo, pg_catalog, pg_temp
AS $$
    SELECT r.refreshed_at FROM nexo.snapshot_refresh r WHERE r.snapshot = 'servicios'
$$;
COMMENT ON FUNCTION nexo.fn_snapshot_stamps() IS
'Sellos de refresco de los snapshots, para resultados sin refreshed_at propio (nunca una herramienta).';

CREATE FUNCTION nexo.fn_refresh_all() RETURNS timestamptz
LANGUAGE plpgsql VOLATILE
SET search_path = nexo, pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM nexo.fn_refresh_servicios();
    RETURN nexo.fn_refresh_pod();
END;
$$;
COMMENT ON FUNCTION nexo.fn_refresh_all() IS
'Reconstruye todos los snapshots (job del dueño; nunca una herramienta).';
