-- The read-only fn_dx_* catalogue: STABLE, schema-qualified, each with its own search_path.
-- Every list/KPI function takes the shared 18-parameter filter contract; date filters are
-- inclusive and compare local calendar days precomputed by the snapshot refresh.

-- The rows of the shared filter contract (all but limit/offset), used by every list/KPI
-- function. A single SELECT with no SET clause, so the planner inlines it into each caller.
CREATE FUNCTION nexo.servicios_filtrados(
    p_fecha_desde date, p_fecha_hasta date, p_fecha_tipo text, p_cliente text, p_canal text,
    p_tipo_servicio text, p_region text, p_comuna text, p_centro text, p_transportista text,
    p_conductor text, p_patente text, p_estado text, p_eta_clasificacion text,
    p_es_critico boolean, p_prioridad text
) RETURNS SETOF nexo.snap_servicio
LANGUAGE sql STABLE
AS $$
    SELECT s.* FROM nexo.snap_servicio s
        CROSS JOIN LATERAL (SELECT CASE COALESCE(p_fecha_tipo, 'compromiso')::nexo.fecha_tipo
            WHEN 'creacion' THEN s.dia_creacion
            WHEN 'entrega' THEN s.dia_entrega
            WHEN 'eta' THEN s.dia_eta
            ELSE s.dia_compromiso END AS dia) f
    WHERE COALESCE(p_fecha_tipo, 'compromiso')::nexo.fecha_tipo IS NOT NULL
      AND (p_fecha_desde IS NULL OR f.dia >= p_fecha_desde)
      AND (p_fecha_hasta IS NULL OR f.dia <= p_fecha_hasta)
      AND (p_cliente IS NULL OR s.cliente = p_cliente)
      AND (p_canal IS NULL OR s.canal = p_canal)
      AND (p_tipo_servicio IS NULL OR s.tipo_servicio = p_tipo_servicio)
      AND (p_region IS NULL OR s.region = p_region)
      AND (p_comuna IS NULL OR s.comuna = p_comuna)
      AND (p_centro IS NULL OR s.centro = p_centro)
      AND (p_transportista IS NULL OR s.transportista = p_transportista)
      AND (p_conductor IS NULL OR s.conductor = p_conductor)
      AND (p_patente IS NULL OR s.patente = upper(p_patente))
      AND (p_estado IS NULL OR s.estado = p_estado)
      AND (p_eta_clasificacion IS NULL OR s.eta_clasificacion = p_eta_clasificacion)
      AND (p_es_critico IS NULL OR s.es_critico = p_es_critico)
      AND (p_prioridad IS NULL OR s.prioridad = p_prioridad)
$$;
COMMENT ON FUNCTION nexo.servicios_filtrados(date, date, text, text, text, text, text, text, text, text, text, text, text, text, boolean, text) IS
'Filas de snap_servicio que cumplen los filtros compartidos (uso interno de las funciones fn_dx_*).';

CREATE FUNCTION nexo.fn_dx_centro_control(
    p_fecha_desde date DEFAULT NULL,
    p_fecha_hasta date DEFAULT NULL,
    p_fecha_tipo text DEFAULT 'compromiso',
    p_cliente text DEFAULT NULL,
    p_canal text DEFAULT NULL,
    p_tipo_servicio text DEFAULT NULL,
    p_region text DEFAULT NULL,
    p_comuna text DEFAULT NULL,
    p_centro text DEFAULT NULL,
    p_transportista text DEFAULT NULL,
    p_conductor text DEFAULT NULL,
    p_patente text DEFAULT NULL,
    p_estado text DEFAULT NULL,
    p_eta_clasificacion text DEFAULT NULL,
    p_es_critico boolean DEFAULT NULL,
    p_prioridad text DEFAULT NULL,
    p_limit integer DEFAULT 50,
    p_offset integer DEFAULT 0
) RETURNS json
LANGUAGE sql STABLE
SET search_path = nexo, pg_catalog, pg_temp
AS $$
    -- One pass over the snapshot: every KPI is a FILTER aggregate of the same filtered rows.
    SELECT json_build_object(
        'total_servicios', count(*),
        'por_estado', json_build_object(
            'cancelado', count(*) FILTER (WHERE s.estado = 'cancelado'),
            'en_reparto', count(*) FILTER (WHERE s.estado = 'en_reparto'),
            'en_transito', count(*) FILTER (WHERE s.estado = 'en_transito'),
            'entregado', count(*) FILTER (WHERE s.estado = 'entregado'),
            'fallido', count(*) FILTER (WHERE s.estado = 'fallido'),
            'pendiente', count(*) FILTER (WHERE s.estado = 'pendiente')),
        'n_eta_riesgo', count(*) FILTER (WHERE s.eta_clasificacion = 'en_riesgo'),
        'n_atrasados', count(*) FILTER (WHERE s.eta_clasificacion = 'atrasado'),
        'n_criticos', count(*) FILTER (WHERE s.es_critico),
        'n_entregados', count(*) FILTER (WHERE s.estado = 'entregado'),
        'n_entregados_a_tiempo', count(*) FILTER (WHERE s.entregado_a_tiempo),
        'tasa_cumplimiento_pct',
            round(100.0 * count(*) FILTER (WHERE s.estado = 'entregado' AND s.entregado_a_tiempo)
                  / nullif(count(*) FILTER (WHERE s.estado = 'entregado'), 0), 1),
        'refreshed_at_servicios',
            (SELECT r.refreshed_at FROM nexo.snapshot_refresh r WHERE r.snapshot = 'servicios')
    )
    FROM nexo.servicios_filtrados(
        p_fecha_desde, p_fecha_hasta, p_fecha_tipo, p_cliente, p_canal, p_tipo_servicio,
        p_region, p_comuna, p_centro, p_transportista, p_conductor, p_patente, p_estado,
        p_eta_clasificacion, p_es_critico, p_prioridad) s
$$;
COMMENT ON FUNCTION nexo.fn_dx_centro_control(date, date, text, text, text, text, text, text, text, text, text, text, text, text, boolean, text, integer, integer) IS
'@meta
domain: centro_control
layer: L2
returns: json
side_effects: none
keywords: resumen, kpi, centro de control, indicadores, cumplimiento, estado de la operación, panorama, métricas, números, cifras, estadísticas, dashboard, overview, summary, stats
enum.p_fecha_tipo: creacion|compromiso|entrega|eta
enum.p_estado: pendiente|en_transito|en_reparto|entregado|fallido|cancelado
enum.p_canal: ecommerce|retail|marketplace
enum.p_tipo_servicio: same_day|next_day|programado
enum.p_prioridad: alta|media|baja
enum.p_eta_clasificacion: a_tiempo|en_riesgo|atrasado|sin_eta
@end
Resumen de KPIs del centro de control para el rango y filtros dados: total de servicios, conteo por estado, servicios con ETA en riesgo, atrasados, críticos y tasa de cumplimiento (porcentaje de entregados a tiempo).';

CREATE FUNCTION nexo.fn_dx_cola_critica(
    p_fecha_desde date DEFAULT NULL,
    p_fecha_hasta date DEFAULT NULL,
    p_fecha_tipo text DEFAULT 'compromiso',
    p_cliente text DEFAULT NULL,
    p_canal text DEFAULT NULL,
    p_tipo_servicio text DEFAULT NULL,
    p_region text DEFAULT NULL,
    p_comuna text DEFAULT NULL,
    p_centro text DEFAULT NULL,
    p_transportista text DEFAULT NULL,
    p_conductor text DEFAULT NULL,
    p_patente text DEFAULT NULL,
    p_estado text DEFAULT NULL,
    p_eta_clasificacion text DEFAULT NULL,
    p_es_critico boolean DEFAULT NULL,
    p_prioridad text DEFAULT NULL,
    p_limit integer DEFAULT 50,
    p_offset integer DEFAULT 0
) RETURNS TABLE (
    codigo text, cliente text, prioridad text, region text, comuna text, centro text,
    transportista text, conductor text, patente text, estado text,
    fecha_compromiso timestamptz, eta timestamptz, eta_clasificacion text, intentos smallint,
    motivo_critico text, notas text, refreshed_at_servicios timestamptz, total_count bigint
)
LANGUAGE sql STABLE
SET search_path = nexo, pg_catalog, pg_temp
AS $$
    SELECT s.codigo, s.cliente, s.prioridad, s.region, s.comuna, s.centro, s.transportista,
           s.conductor, s.patente, s.estado, s.fecha_compromiso, s.eta, s.eta_clasificacion,
           s.intentos, s.motivo_critico, s.notas,
           (SELECT r.refreshed_at FROM nexo.snapshot_refresh r WHERE r.snapshot = 'servicios'),
           count(*) OVER ()
    FROM nexo.servicios_filtrados(
        p_fecha_desde, p_fecha_hasta, p_fecha_tipo, p_cliente, p_canal, p_tipo_servicio,
        p_region, p_comuna, p_centro, p_transportista, p_conductor, p_patente, p_estado,
        p_eta_clasificacion, p_es_critico, p_prioridad) s
    WHERE s.es_critico
    ORDER BY array_position(ARRAY['alta', 'media', 'baja'], s.prioridad),
             array_position(ARRAY['atrasado', 'en_riesgo', 'sin_eta', 'a_tiempo'],
                            s.eta_clasificacion),
             s.fecha_compromiso, s.codigo
    LIMIT COALESCE(p_limit, 50) OFFSET COALESCE(p_offset, 0)
$$;
COMMENT ON FUNCTION nexo.fn_dx_cola_critica(date, date, text, text, text, text, text, text, text, text, text, text, text, text, boolean, text, integer, integer) IS
'L2: Cola crítica: servicios que necesitan atención ahora (cliente prioritario, comprometidos para hoy con ETA en riesgo o atrasada, o intentos fallidos repetidos), los más urgentes primero (prioridad, clasificación de ETA, fecha de compromiso), con el motivo y las notas.';

CREATE FUNCTION nexo.fn_dx_dimensionamiento(
    p_fecha_desde date DEFAULT NULL,
    p_fecha_hasta date DEFAULT NULL,
    p_fecha_tipo text DEFAULT 'compromiso',
    p_cliente text DEFAULT NULL,
    p_canal text DEFAULT NULL,
    p_tipo_servicio text DEFAULT NULL,
    p_region text DEFAULT NULL,
    p_comuna text DEFAULT NULL,
    p_centro text DEFAULT NULL,
    p_transportista text DEFAULT NULL,
    p_conductor text DEFAULT NULL,
    p_patente text DEFAULT NULL,
    p_estado text DEFAULT NULL,
    p_eta_clasificacion text DEFAULT NULL,
    p_es_critico boolean DEFAULT NULL,
    p_prioridad text DEFAULT NULL,
    p_limit integer DEFAULT 50,
    p_offset integer DEFAULT 0
) RETURNS TABLE (
    centro text, transportista text, servicios bigint, activos bigint,
    conductores_activos bigint, dias bigint, carga_por_conductor numeric,
    capacidad bigint, brecha_capacidad bigint, refreshed_at_servicios timestamptz,
    total_count bigint
)
LANGUAGE sql STABLE
SET search_path = nexo, pg_catalog, pg_temp
AS $$
    SELECT g.*,
           (SELECT r.refreshed_at FROM nexo.snapshot_refresh r WHERE r.snapshot = 'servicios'),
           count(*) OVER ()
    FROM (
        SELECT s.centro, s.transportista,
               count(*) AS servicios,
               count(*) FILTER (WHERE s.estado IN ('pendiente', 'en_transito', 'en_reparto'))
                   AS activos,
               count(DISTINCT s.conductor) AS conductores_activos,
               count(DISTINCT f.dia) AS dias,
               round(count(*)::numeric / nullif(count(DISTINCT s.conductor), 0), 1)
                   AS carga_por_conductor,
               count(DISTINCT s.conductor) * count(DISTINCT f.dia) * max(t.capacidad_diaria)
                   AS capacidad,
               count(*) - count(DISTINCT s.conductor) * count(DISTINCT f.dia)
                   * max(t.capacidad_diaria) AS brecha_capacidad
        FROM nexo.servicios_filtrados(
            p_fecha_desde, p_fecha_hasta, p_fecha_tipo, p_cliente, p_canal, p_tipo_servicio,
            p_region, p_comuna, p_centro, p_transportista, p_conductor, p_patente, p_estado,
            p_eta_clasificacion, p_es_critico, p_prioridad) s
        CROSS JOIN LATERAL (SELECT CASE COALESCE(p_fecha_tipo, 'compromiso')::nexo.fecha_tipo
            WHEN 'creacion' THEN s.dia_creacion
            WHEN 'entrega' THEN s.dia_entrega
            WHEN 'eta' THEN s.dia_eta
            ELSE s.dia_compromiso END AS dia) f
        JOIN nexo.transportista t ON t.nombre = s.transportista
        GROUP BY s.centro, s.transportista
    ) g
    ORDER BY g.brecha_capacidad DESC, g.centro, g.transportista
    LIMIT COALESCE(p_limit, 50) OFFSET COALESCE(p_offset, 0)
$$;
COMMENT ON FUNCTION nexo.fn_dx_dimensionamiento(date, date, text, text, text, text, text, text, text, text, text, text, text, text, boolean, text, integer, integer) IS
'@meta
domain: dimensionamiento
layer: L3
returns: table
side_effects: none
keywords: dimensionamiento, capacidad, conductores, carga, flota, brecha, volumen por centro, dotación, choferes, faltan conductores, drivers, capacity, staffing
enum.p_fecha_tipo: creacion|compromiso|entrega|eta
enum.p_estado: pendiente|en_transito|en_reparto|entregado|fallido|cancelado
enum.p_canal: ecommerce|retail|marketplace
enum.p_tipo_servicio: same_day|next_day|programado
enum.p_prioridad: alta|media|baja
enum.p_eta_clasificacion: a_tiempo|en_riesgo|atrasado|sin_eta
@end
Dimensionamiento por centro y transportista: volumen de servicios, servicios activos, conductores activos, carga por conductor, capacidad (conductores × días × capacidad diaria) y brecha de capacidad (positiva = faltan conductores), mayor brecha primero.';

CREATE FUNCTION nexo.fn_dx_torre_control(
    p_fecha_desde date DEFAULT NULL,
    p_fecha_hasta date DEFAULT NULL,
    p_fecha_tipo text DEFAULT 'compromiso',
    p_cliente text DEFAULT NULL,
    p_canal text DEFAULT NULL,
    p_tipo_servicio text DEFAULT NULL,
    p_region text DEFAULT NULL,
    p_comuna text DEFAULT NULL,
    p_centro text DEFAULT NULL,
    p_transportista text DEFAULT NULL,
    p_conductor text DEFAULT NULL,
    p_patente text DEFAULT NULL,
    p_estado text DEFAULT NULL,
    p_eta_clasificacion text DEFAULT NULL,
    p_es_critico boolean DEFAULT NULL,
    p_prioridad text DEFAULT NULL,
    p_limit integer DEFAULT 50,
    p_offset integer DEFAULT 0
) RETURNS TABLE (
    region text, comuna text, servicios bigint, a_tiempo bigint, en_riesgo bigint,
    atrasado bigint, sin_eta bigint, pct_a_tiempo numeric,
    refreshed_at_servicios timestamptz, total_count bigint
)
LANGUAGE sql STABLE
SET search_path = nexo, pg_catalog, pg_temp
AS $$
    SELECT g.*,
           (SELECT r.refreshed_at FROM nexo.snapshot_refresh r WHERE r.snapshot = 'servicios'),
           count(*) OVER ()
    FROM (
        SELECT s.region, s.comuna,
               count(*) AS servicios,
               count(*) FILTER (WHERE s.eta_clasificacion = 'a_tiempo') AS a_tiempo,
               count(*) FILTER (WHERE s.eta_clasificacion = 'en_riesgo') AS en_riesgo,
               count(*) FILTER (WHERE s.eta_clasificacion = 'atrasado') AS atrasado,
               count(*) FILTER (WHERE s.eta_clasificacion = 'sin_eta') AS sin_eta,
               round(100.0 * count(*) FILTER (WHERE s.eta_clasificacion = 'a_tiempo')
                     / count(*), 1) AS pct_a_tiempo
        FROM nexo.servicios_filtrados(
            p_fecha_desde, p_fecha_hasta, p_fecha_tipo, p_cliente, p_canal, p_tipo_servicio,
            p_region, p_comuna, p_centro, p_transportista, p_conductor, p_patente, p_estado,
            p_eta_clasificacion, p_es_critico, p_prioridad) s
        GROUP BY s.region, s.comuna
    ) g
    ORDER BY g.region, g.comuna
    LIMIT COALESCE(p_limit, 50) OFFSET COALESCE(p_offset, 0)
$$;
COMMENT ON FUNCTION nexo.fn_dx_torre_control(date, date, text, text, text, text, text, text, text, text, text, text, text, text, boolean, text, integer, integer) IS
'L3: Torre de control: por región y comuna, servicios por clasificación de ETA (a_tiempo, en_riesgo, atrasado, sin_eta) y porcentaje a tiempo.';

CREATE FUNCTION nexo.fn_dx_auditoria_pod(
    p_fecha_desde date DEFAULT NULL,
    p_fecha_hasta date DEFAULT NULL,
    p_fecha_tipo text DEFAULT 'compromiso',
    p_cliente text DEFAULT NULL,
    p_canal text DEFAULT NULL,
    p_tipo_servicio text DEFAULT NULL,
    p_region text DEFAULT NULL,
    p_comuna text DEFAULT NULL,
    p_centro text DEFAULT NULL,
    p_transportista text DEFAULT NULL,
    p_conductor text DEFAULT NULL,
    p_patente text DEFAULT NULL,
    p_estado text DEFAULT NULL,
    p_eta_clasificacion text DEFAULT NULL,
    p_es_critico boolean DEFAULT NULL,
    p_prioridad text DEFAULT NULL,
    p_limit integer DEFAULT 50,
    p_offset integer DEFAULT 0
) RETURNS TABLE (
    codigo text, cliente text, region text, comuna text, transportista text, conductor text,
    fecha_entrega timestamptz, pod_estado text, foto boolean, firma boolean, geo boolean,
    distancia_m integer, problema text, notas text, refreshed_at_servicios timestamptz,
    refreshed_at_pod timestamptz, total_count bigint
)
LANGUAGE sql STABLE
SET search_path = nexo, pg_catalog, pg_temp
AS $$
    SELECT s.codigo, s.cliente, s.region, s.comuna, s.transportista, s.conductor,
           s.fecha_entrega, p.pod_estado, p.foto, p.firma, p.geo, p.distancia_m, p.problema,
           s.notas,
           (SELECT r.refreshed_at FROM nexo.snapshot_refresh r WHERE r.snapshot = 'servicios'),
           (SELECT r.refreshed_at FROM nexo.snapshot_refresh r WHERE r.snapshot = 'pod'),
           count(*) OVER ()
    FROM nexo.servicios_filtrados(
        p_fecha_desde, p_fecha_hasta, p_fecha_tipo, p_cliente, p_canal, p_tipo_servicio,
        p_region, p_comuna, p_centro, p_transportista, p_conductor, p_patente, p_estado,
        p_eta_clasificacion, p_es_critico, p_prioridad) s
    JOIN nexo.snap_pod p ON p.servicio_id = s.id
    WHERE s.estado = 'entregado' AND p.problema IS NOT NULL
    ORDER BY s.fecha_entrega DESC, s.codigo
    LIMIT COALESCE(p_limit, 50) OFFSET COALESCE(p_offset, 0)
$$;
COMMENT ON FUNCTION nexo.fn_dx_auditoria_pod(date, date, text, text, text, text, text, text, text, text, text, text, text, text, boolean, text, integer, integer) IS
'VT: Auditoría POD: servicios entregados con problemas en la prueba de entrega (POD faltante, rechazado o pendiente de revisión, sin foto, sin firma, sin geo, o entregado a más de 300 m de la dirección), los más recientes primero.';

CREATE FUNCTION nexo.fn_dx_eta_distribucion(
    p_fecha_desde date DEFAULT NULL,
    p_fecha_hasta date DEFAULT NULL,
    p_fecha_tipo text DEFAULT 'compromiso',
    p_cliente text DEFAULT NULL,
    p_canal text DEFAULT NULL,
    p_tipo_servicio text DEFAULT NULL,
    p_region text DEFAULT NULL,
    p_comuna text DEFAULT NULL,
    p_centro text DEFAULT NULL,
    p_transportista text DEFAULT NULL,
    p_conductor text DEFAULT NULL,
    p_patente text DEFAULT NULL,
    p_estado text DEFAULT NULL,
    p_eta_clasificacion text DEFAULT NULL,
    p_es_critico boolean DEFAULT NULL,
    p_prioridad text DEFAULT NULL,
    p_limit integer DEFAULT 50,
    p_offset integer DEFAULT 0
) RETURNS TABLE (
    eta_clasificacion text, servicios bigint, pct numeric,
    refreshed_at_servicios timestamptz, total_count bigint
)
LANGUAGE sql STABLE
SET search_path = nexo, pg_catalog, pg_temp
AS $$
    WITH filtrado AS (
        SELECT s.eta_clasificacion FROM nexo.servicios_filtrados(
            p_fecha_desde, p_fecha_hasta, p_fecha_tipo, p_cliente, p_canal, p_tipo_servicio,
            p_region, p_comuna, p_centro, p_transportista, p_conductor, p_patente, p_estado,
            p_eta_clasificacion, p_es_critico, p_prioridad) s
    ), buckets AS (
        SELECT b.eta_clasificacion, b.orden, count(fl.eta_clasificacion) AS servicios
        FROM unnest(ARRAY['a_tiempo', 'en_riesgo', 'atrasado', 'sin_eta'])
             WITH ORDINALITY AS b(eta_clasificacion, orden)
        LEFT JOIN filtrado fl ON fl.eta_clasificacion = b.eta_clasificacion
        GROUP BY b.eta_clasificacion, b.orden
    )
    SELECT b.eta_clasificacion, b.servicios,
           round(100.0 * b.servicios / nullif(sum(b.servicios) OVER (), 0), 1),
           (SELECT r.refreshed_at FROM nexo.snapshot_refresh r WHERE r.snapshot = 'servicios'),
           count(*) OVER ()
    FROM buckets b
    ORDER BY b.orden
    LIMIT COALESCE(p_limit, 50) OFFSET COALESCE(p_offset, 0)
$$;
COMMENT ON FUNCTION nexo.fn_dx_eta_distribucion(date, date, text, text, text, text, text, text, text, text, text, text, text, text, boolean, text, integer, integer) IS
'Distribución de servicios por clasificación de ETA (a_tiempo, en_riesgo, atrasado, sin_eta): cantidad y porcentaje de cada una.';

CREATE FUNCTION nexo.fn_dx_rendimiento_transportista(
    p_fecha_desde date DEFAULT NULL,
    p_fecha_hasta date DEFAULT NULL,
    p_fecha_tipo text DEFAULT 'compromiso',
    p_cliente text DEFAULT NULL,
    p_canal text DEFAULT NULL,
    p_tipo_servicio text DEFAULT NULL,
    p_region text DEFAULT NULL,
    p_comuna text DEFAULT NULL,
    p_centro text DEFAULT NULL,
    p_transportista text DEFAULT NULL,
    p_conductor text DEFAULT NULL,
    p_patente text DEFAULT NULL,
    p_estado text DEFAULT NULL,
    p_eta_clasificacion text DEFAULT NULL,
    p_es_critico boolean DEFAULT NULL,
    p_prioridad text DEFAULT NULL,
    p_limit integer DEFAULT 50,
    p_offset integer DEFAULT 0
) RETURNS TABLE (
    transportista text, servicios bigint, entregados bigint, entregados_a_tiempo bigint,
    pct_a_tiempo numeric, fallidos bigint, pod_faltante bigint, pod_con_problema bigint,
    refreshed_at_servicios timestamptz, refreshed_at_pod timestamptz, total_count bigint
)
LANGUAGE sql STABLE
SET search_path = nexo, pg_catalog, pg_temp
AS $$
    SELECT g.*,
           (SELECT r.refreshed_at FROM nexo.snapshot_refresh r WHERE r.snapshot = 'servicios'),
           (SELECT r.refreshed_at FROM nexo.snapshot_refresh r WHERE r.snapshot = 'pod'),
           count(*) OVER ()
    FROM (
        SELECT s.transportista,
               count(*) AS servicios,
               count(*) FILTER (WHERE s.estado = 'entregado') AS entregados,
               count(*) FILTER (WHERE s.entregado_a_tiempo) AS entregados_a_tiempo,
               round(100.0 * count(*) FILTER (WHERE s.entregado_a_tiempo)
                     / nullif(count(*) FILTER (WHERE s.estado = 'entregado'), 0), 1)
                   AS pct_a_tiempo,
               count(*) FILTER (WHERE s.estado = 'fallido') AS fallidos,
               count(*) FILTER (WHERE p.pod_estado = 'faltante') AS pod_faltante,
               count(*) FILTER (WHERE p.problema IS NOT NULL) AS pod_con_problema
        FROM nexo.servicios_filtrados(
            p_fecha_desde, p_fecha_hasta, p_fecha_tipo, p_cliente, p_canal, p_tipo_servicio,
            p_region, p_comuna, p_centro, p_transportista, p_conductor, p_patente, p_estado,
            p_eta_clasificacion, p_es_critico, p_prioridad) s
        LEFT JOIN nexo.snap_pod p ON p.servicio_id = s.id
        GROUP BY s.transportista
    ) g
    ORDER BY g.transportista
    LIMIT COALESCE(p_limit, 50) OFFSET COALESCE(p_offset, 0)
$$;
COMMENT ON FUNCTION nexo.fn_dx_rendimiento_transportista(date, date, text, text, text, text, text, text, text, text, text, text, text, text, boolean, text, integer, integer) IS
'@meta
domain: transportistas
layer: L3
returns: table
side_effects: none
keywords: rendimiento, transportista, carrier, cumplimiento, a tiempo, fallidos, pod faltante, ranking, desempeño, courier, performance, on time
enum.p_fecha_tipo: creacion|compromiso|entrega|eta
enum.p_estado: pendiente|en_transito|en_reparto|entregado|fallido|cancelado
enum.p_canal: ecommerce|retail|marketplace
enum.p_tipo_servicio: same_day|next_day|programado
enum.p_prioridad: alta|media|baja
enum.p_eta_clasificacion: a_tiempo|en_riesgo|atrasado|sin_eta
@end
Rendimiento por transportista: servicios, entregados, entregados a tiempo y su porcentaje, fallidos, POD faltante y POD con problemas.';

CREATE FUNCTION nexo.fn_dx_conteo_servicios(
    p_fecha_desde date DEFAULT NULL,
    p_fecha_hasta date DEFAULT NULL,
    p_fecha_tipo text DEFAULT 'compromiso',
    p_cliente text DEFAULT NULL,
    p_canal text DEFAULT NULL,
    p_tipo_servicio text DEFAULT NULL,
    p_region text DEFAULT NULL,
    p_comuna text DEFAULT NULL,
    p_centro text DEFAULT NULL,
    p_transportista text DEFAULT NULL,
    p_conductor text DEFAULT NULL,
    p_patente text DEFAULT NULL,
    p_estado text DEFAULT NULL,
    p_eta_clasificacion text DEFAULT NULL,
    p_es_critico boolean DEFAULT NULL,
    p_prioridad text DEFAULT NULL,
    p_limit integer DEFAULT 50,
    p_offset integer DEFAULT 0
) RETURNS bigint
LANGUAGE sql STABLE
SET search_path = nexo, pg_catalog, pg_temp
AS $$
    SELECT count(*) FROM nexo.servicios_filtrados(
        p_fecha_desde, p_fecha_hasta, p_fecha_tipo, p_cliente, p_canal, p_tipo_servicio,
        p_region, p_comuna, p_centro, p_transportista, p_conductor, p_patente, p_estado,
        p_eta_clasificacion, p_es_critico, p_prioridad) s
$$;
COMMENT ON FUNCTION nexo.fn_dx_conteo_servicios(date, date, text, text, text, text, text, text, text, text, text, text, text, text, boolean, text, integer, integer) IS
'L1: Cantidad de servicios que cumplen los filtros dados (un solo número).';

CREATE FUNCTION nexo.fn_dx_servicio_detalle(p_codigo text) RETURNS json
LANGUAGE sql STABLE
SET search_path = nexo, pg_catalog, pg_temp
AS $$
    WITH s AS (
        SELECT * FROM nexo.snap_servicio WHERE codigo = upper(p_codigo)
    )
    SELECT json_build_object(
        'codigo', upper(p_codigo),
        'servicio', (SELECT json_build_object(
                'codigo', s.codigo, 'cliente', s.cliente, 'canal', s.canal,
                'tipo_servicio', s.tipo_servicio, 'prioridad', s.prioridad,
                'region', s.region, 'comuna', s.comuna, 'centro', s.centro,
                'transportista', s.transportista, 'conductor', s.conductor,
                'patente', s.patente, 'estado', s.estado,
                'fecha_creacion', s.fecha_creacion, 'fecha_compromiso', s.fecha_compromiso,
                'fecha_entrega', s.fecha_entrega, 'eta', s.eta,
                'eta_clasificacion', s.eta_clasificacion, 'es_critico', s.es_critico,
                'motivo_critico', s.motivo_critico, 'intentos', s.intentos, 'notas', s.notas)
            FROM s),
        'tramos', COALESCE((SELECT json_agg(json_build_object(
                'tipo', pi.tipo, 'intento', pi.intento, 'estado', pi.estado,
                'inicio', pi.inicio, 'fin', pi.fin, 'conductor', pi.conductor)
                ORDER BY pi.id)
            FROM nexo.proc_inst pi JOIN s ON s.id = pi.servicio_id), '[]'::json),
        'pod', (SELECT json_build_object(
                'estado', p.pod_estado, 'foto', p.foto, 'firma', p.firma, 'geo', p.geo,
                'distancia_m', p.distancia_m, 'registrado_en', p.registrado_en,
                'problema', p.problema)
            FROM nexo.snap_pod p JOIN s ON s.id = p.servicio_id),
        'eventos', COALESCE((SELECT json_agg(json_build_object(
                'ocurrido_en', e.ocurrido_en, 'tipo', e.tipo, 'detalle', e.detalle)
                ORDER BY e.ocurrido_en, e.id)
            FROM nexo.evento e JOIN s ON s.id = e.servicio_id), '[]'::json),
        'refreshed_at_servicios',
            (SELECT r.refreshed_at FROM nexo.snapshot_refresh r WHERE r.snapshot = 'servicios'),
        'refreshed_at_pod',
            (SELECT r.refreshed_at FROM nexo.snapshot_refresh r WHERE r.snapshot = 'pod')
    )
$$;
COMMENT ON FUNCTION nexo.fn_dx_servicio_detalle(text) IS
'@meta
domain: servicio
layer: L1
returns: json
side_effects: none
keywords: detalle, servicio, código, seguimiento, tramos, pod, eventos, historia, SV-, pedido, trazabilidad, tracking
@end
Detalle de un servicio por su código (formato SV-0000001): datos del servicio, tramos (proc_inst), POD y eventos del flujo. "servicio" es null cuando el código no existe.';

CREATE FUNCTION nexo.fn_dx_catalogo() RETURNS json
LANGUAGE sql STABLE
SET search_path = nexo, pg_catalog, pg_temp
AS $$
    SELECT json_build_object(
        'clientes', (SELECT json_agg(nombre ORDER BY nombre COLLATE "C") FROM nexo.cliente),
        'canales', json_build_array('ecommerce', 'marketplace', 'retail'),
        'tipos_servicio', json_build_array('next_day', 'programado', 'same_day'),
        'prioridades', json_build_array('alta', 'baja', 'media'),
        'centros', (SELECT json_agg(nombre ORDER BY nombre COLLATE "C") FROM nexo.centro),
        'transportistas',
            (SELECT json_agg(nombre ORDER BY nombre COLLATE "C") FROM nexo.transportista),
        'estados', json_build_array('cancelado', 'en_reparto', 'en_transito', 'entregado',
                                    'fallido', 'pendiente'),
        'eta_clasificaciones', json_build_array('a_tiempo', 'atrasado', 'en_riesgo', 'sin_eta'),
        'regiones', (SELECT json_agg(json_build_object(
                'nombre', r.nombre, 'codigo', r.codigo, 'alias', to_json(r.alias))
                ORDER BY r.nombre COLLATE "C") FROM nexo.region r),
        'comunas', (SELECT json_agg(json_build_object('nombre', c.nombre, 'region', c.region)
                ORDER BY c.region COLLATE "C", c.nombre COLLATE "C") FROM nexo.comuna c),
        'refreshed_at_servicios',
            (SELECT r.refreshed_at FROM nexo.snapshot_refresh r WHERE r.snapshot = 'servicios')
    )
$$;
COMMENT ON FUNCTION nexo.fn_dx_catalogo() IS
'@meta
domain: catalogo
layer: L1
returns: json
side_effects: none
keywords: catálogo, valores válidos, filtros, regiones, comunas, clientes, transportistas, centros, opciones, registrados, registro, catalog, valid values, registered
@end
Catálogo de valores válidos para los filtros: clientes, canales, tipos de servicio, prioridades, centros, transportistas, estados, clasificaciones de ETA, regiones (con código y alias) y comunas (con su región).';
