-- Storytelling SQL in its own schema, so it never becomes a coordinador_* tool.
CREATE SCHEMA IF NOT EXISTS story;

CREATE FUNCTION story.fn_delivery_metrics(
    p_fecha_desde date,
    p_fecha_hasta date,
    p_region text DEFAULT NULL,
    p_cliente text DEFAULT NULL,
    p_transportista text DEFAULT NULL
) RETURNS TABLE (
    dia date, entregados bigint, a_tiempo bigint, fallidos bigint,
    refreshed_at_servicios timestamptz
)
LANGUAGE sql STABLE
SET search_path = story, pg_catalog, pg_temp
AS $$
    SELECT s.dia_compromiso,
           count(*) FILTER (WHERE s.estado = 'entregado'),
           count(*) FILTER (WHERE s.entregado_a_tiempo),
           count(*) FILTER (WHERE s.estado = 'fallido'),
           (SELECT r.refreshed_at FROM nexo.snapshot_refresh r WHERE r.snapshot = 'servicios')
    FROM nexo.snap_servicio s
    WHERE (p_fecha_desde IS NULL OR s.dia_compromiso >= p_fecha_desde)
      AND (p_fecha_hasta IS NULL OR s.dia_compromiso <= p_fecha_hasta)
      AND (p_region IS NULL OR s.region = p_region)
      AND (p_cliente IS NULL OR s.cliente = p_cliente)
      AND (p_transportista IS NULL OR s.transportista = p_transportista)
    GROUP BY s.dia_compromiso
    ORDER BY s.dia_compromiso
$$;
COMMENT ON FUNCTION story.fn_delivery_metrics(date, date, text, text, text) IS
'Métricas diarias de entrega por día de compromiso: entregados, entregados a tiempo y fallidos.';

CREATE FUNCTION story.fn_workflow_events(
    p_codigo text DEFAULT NULL,
    p_fecha_desde date DEFAULT NULL,
    p_fecha_hasta date DEFAULT NULL,
    p_limit integer DEFAULT 50
) RETURNS TABLE (
    codigo text, ocurrido_en timestamptz, tipo text, detalle text, transportista text,
    region text, refreshed_at_servicios timestamptz, total_count bigint
)
LANGUAGE sql STABLE
SET search_path = story, pg_catalog, pg_temp
AS $$
    SELECT s.codigo, e.ocurrido_en, e.tipo, e.detalle, s.transportista, s.region,
           (SELECT r.refreshed_at FROM nexo.snapshot_refresh r WHERE r.snapshot = 'servicios'),
           count(*) OVER ()
    FROM nexo.evento e
    JOIN nexo.snap_servicio s ON s.id = e.servicio_id
    CROSS JOIN LATERAL (SELECT (e.ocurrido_en AT TIME ZONE
        (SELECT valor FROM nexo.parametro WHERE clave = 'timezone'))::date AS dia) f
    WHERE (CASE WHEN p_codigo IS NULL
                THEN e.tipo IN ('intento_fallido', 'pod_rechazado', 'reprogramado')
                ELSE s.codigo = upper(p_codigo) END)
      AND (p_fecha_desde IS NULL OR f.dia >= p_fecha_desde)
      AND (p_fecha_hasta IS NULL OR f.dia <= p_fecha_hasta)
    ORDER BY CASE WHEN p_codigo IS NULL THEN e.ocurrido_en END DESC,
             e.ocurrido_en, e.id
    LIMIT COALESCE(p_limit, 50)
$$;
COMMENT ON FUNCTION story.fn_workflow_events(text, date, date, integer) IS
'Eventos del flujo: todos los de un servicio (en orden) o, sin código, los notables (intentos fallidos, POD rechazados, reprogramaciones), los más recientes primero.';
