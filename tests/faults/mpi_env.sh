# Sourced by the MPI tests and bench/mpi_bench.sh: OpenMPI settings for running on one machine,
# possibly in a container and as root (CI). Nothing here is needed on a cluster.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Containers often forbid the cross-memory attach the shared-memory transport uses for large messages.
export OMPI_MCA_btl_vader_single_copy_mechanism=none
# Only the loopback and shared memory: no probing of the network for a one-machine job.
export OMPI_MCA_btl=self,vader
export OMPI_MCA_plm_rsh_agent=false
