-- Applied after the data load (COPY is faster without them): foreign keys, indexes, statistics.
ALTER TABLE nexo.proc_inst ADD FOREIGN KEY (servicio_id) REFERENCES nexo.servicio (id);
ALTER TABLE nexo.pod ADD FOREIGN KEY (servicio_id) REFERENCES nexo.servicio (id);
ALTER TABLE nexo.evento ADD FOREIGN KEY (servicio_id) REFERENCES nexo.servicio (id);
CREATE INDEX proc_inst_servicio_idx ON nexo.proc_inst (servicio_id);
CREATE INDEX evento_servicio_idx ON nexo.evento (servicio_id);
CREATE INDEX evento_tipo_ocurrido_idx ON nexo.evento (tipo, ocurrido_en);
ANALYZE nexo.servicio;
ANALYZE nexo.proc_inst;
ANALYZE nexo.pod;
ANALYZE nexo.evento;
