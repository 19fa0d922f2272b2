"""Process supervision: reward models that judge every step against those that judge the end."""
