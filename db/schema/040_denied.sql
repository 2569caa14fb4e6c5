-- Functions that exist in Coordinador but must never become tools (each denied a different way).

CREATE FUNCTION nexo.fn_dx_orchestrator() RETURNS timestamptz
LANGUAGE sql VOLATILE
SET search_path = nexo, pg_catalog, pg_temp
AS $$ SELECT nexo.fn_refresh_all() $$;
COMMENT ON FUNCTION nexo.fn_dx_orchestrator() IS
'Orquestador: ejecuta todos los jobs de refresco de snapshots.';

CREATE FUNCTION nexo.fn_dx_orchestrator_auto() RETURNS timestamptz
LANGUAGE plpgsql VOLATILE
SET search_path = nexo, pg_catalog, pg_temp
AS $$
DECLARE
    ultimo timestamptz := (SELECT min(refreshed_at) FROM nexo.snapshot_refresh);
BEGIN
    IF ultimo IS NULL OR ultimo < now() - interval '15 minutes' THEN
        RETURN nexo.fn_refresh_all();
    END IF;
    RETURN ultimo;
END;
$$;
COMMENT ON FUNCTION nexo.fn_dx_orchestrator_auto() IS
'Orquestador automático: refresca los snapshots cuando tienen más de 15 minutos.';

CREATE FUNCTION nexo.fn_dx_recalcular_eta(p_codigo text, p_eta timestamptz) RETURNS text
LANGUAGE sql VOLATILE
SET search_path = nexo, pg_catalog, pg_temp
AS $$
    UPDATE nexo.servicio
    SET eta = p_eta,
        eta_clasificacion = CASE
            WHEN p_eta IS NULL THEN 'sin_eta'
            WHEN p_eta <= fecha_compromiso - interval '30 minutes' THEN 'a_tiempo'
            WHEN p_eta <= fecha_compromiso THEN 'en_riesgo'
            ELSE 'atrasado' END
    WHERE codigo = p_codigo
    RETURNING eta_clasificacion
$$;
COMMENT ON FUNCTION nexo.fn_dx_recalcular_eta(text, timestamptz) IS
'@meta
domain: eta
layer: L1
returns: text
side_effects: writes_to_servicio
keywords: recalcular, eta, actualizar
@end
Recalcula y guarda la ETA de un servicio.';
